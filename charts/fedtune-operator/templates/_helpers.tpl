{{/* Chart name, overridable. */}}
{{- define "fedtune-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects; the release name alone when it already contains the chart name. */}}
{{- define "fedtune-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "fedtune-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "fedtune-operator.labels" -}}
helm.sh/chart: {{ include "fedtune-operator.chart" . }}
{{ include "fedtune-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fedtune
{{- end }}

{{/* Labels that select the operator pod; never change them on upgrade. */}}
{{- define "fedtune-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fedtune-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "fedtune-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fedtune-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "fedtune-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The operator's watched namespaces, as Quarkus Operator SDK reads them. */}}
{{- define "fedtune-operator.watchNamespaces" -}}
{{- if .Values.watchNamespaces }}
{{- join "," .Values.watchNamespaces }}
{{- else }}
{{- "JOSDK_ALL_NAMESPACES" }}
{{- end }}
{{- end }}

{{/*
FEDTUNE_SIGNERS: each storage signer's endpoint, region and the folder its Secret is mounted at, as JSON.
*/}}
{{- define "fedtune-operator.signers" -}}
{{- $signers := list -}}
{{- range $i, $signer := .Values.storageSigners -}}
{{- $entry := dict "endpoint" $signer.endpoint "dir" (printf "/etc/fedtune/signers/%d" $i) -}}
{{- with $signer.region -}}
{{- $_ := set $entry "region" . -}}
{{- end -}}
{{- $signers = append $signers $entry -}}
{{- end -}}
{{- $signers | toJson -}}
{{- end -}}
