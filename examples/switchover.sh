#!/bin/sh
# Manual switchover of pair-1 to sip-1: sip-0 is demoted and its node removes the VIP, then sip-1
# is promoted and its node adds the VIP. Refused (condition SwitchoverRefused) while sip-1 is not
# Ready. Follow it with: kubectl describe ssp pair-1 -n voice
kubectl patch ssp pair-1 -n voice --type merge -p '{"spec":{"primary":"sip-1"}}'
