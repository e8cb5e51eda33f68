package io.sipha.agent;

import io.sipha.vip.VipAddress;

/**
 * What the agent knows is on its host for one pair: the address and the status epoch at which it
 * was bound (0 when found on the host without knowing the epoch).
 */
record HostVip(VipAddress vip, long epoch) {}
