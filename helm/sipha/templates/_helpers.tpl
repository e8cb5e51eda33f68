{{/* The chart name, or nameOverride. */}}
{{- define "sipha.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name of the release's resources: fullnameOverride, else the release name when it
already contains the chart name (release "sipha" gives "sipha"), else "<release>-<name>".
Truncated so that "<fullname>-operator" etc. stay valid names.
*/}}
{{- define "sipha.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 50 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 50 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* chart name and version, for the helm.sh/chart label. */}}
{{- define "sipha.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels common to every resource of the release. */}}
{{- define "sipha.commonLabels" -}}
helm.sh/chart: {{ include "sipha.chart" . }}
app.kubernetes.io/name: {{ include "sipha.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: sipha
{{- end }}

{{/*
Labels of one component. Call with (dict "ctx" $ "component" "operator").
*/}}
{{- define "sipha.labels" -}}
{{ include "sipha.commonLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component (immutable: no version). Same arguments as sipha.labels. */}}
{{- define "sipha.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sipha.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Names of the component resources. */}}
{{- define "sipha.operatorName" -}}
{{- printf "%s-operator" (include "sipha.fullname" .) }}
{{- end }}

{{- define "sipha.agentName" -}}
{{- printf "%s-agent" (include "sipha.fullname" .) }}
{{- end }}

{{/* The ConfigMap holding the VIP scripts: the admin's existing one, or the chart's. */}}
{{- define "sipha.scriptsConfigMap" -}}
{{- if .Values.agent.scripts.existingConfigMap }}
{{- .Values.agent.scripts.existingConfigMap }}
{{- else }}
{{- printf "%s-vip-scripts" (include "sipha.fullname" .) }}
{{- end }}
{{- end }}

{{/* The image of both components; the tag defaults to the chart's appVersion. */}}
{{- define "sipha.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret holding the agents' peer channel key: the admin's, or the chart's. */}}
{{- define "sipha.peerKeySecret" -}}
{{- if .Values.agent.peer.existingSecret -}}
{{ .Values.agent.peer.existingSecret }}
{{- else -}}
{{ include "sipha.agentName" . }}-peer-key
{{- end -}}
{{- end -}}
