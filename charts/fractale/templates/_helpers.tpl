{{/* Names and labels shared by every template. */}}

{{- define "fractale.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name alone when it already contains the chart name. */}}
{{- define "fractale.fullname" -}}
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

{{- define "fractale.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fractale.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fractale.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "fractale.labels" -}}
helm.sh/chart: {{ include "fractale.chart" . }}
{{ include "fractale.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: fractale
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "fractale.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fractale.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "fractale.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The model needs an API key unless it answers from a script. */}}
{{- define "fractale.needsApiKey" -}}
{{- if ne .Values.model.provider "scripted" }}true{{ end }}
{{- end }}

{{- define "fractale.leaseName" -}}
{{- printf "%s-operator" (include "fractale.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fractale.apiKeySecretName" -}}
{{- default (printf "%s-api-key" (include "fractale.fullname" .)) .Values.model.apiKey.existingSecret }}
{{- end }}

{{/*
Rules for the namespaced resources the operator uses: exactly the verbs it calls. Shared by the
ClusterRole (all namespaces) and the per-namespace Roles (watchNamespaces).
*/}}
{{- define "fractale.namespacedRules" -}}
- apiGroups: ["fractale.dev"]
  resources: ["agentexperiments", "agentplans", "agentsteps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["fractale.dev"]
  resources: ["agentexperiments/status", "agentplans/status", "agentsteps/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: ["fractale.dev"]
  resources: ["agentexperiments/finalizers", "agentplans/finalizers", "agentsteps/finalizers"]
  verbs: ["update"]
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["get", "list", "watch", "create", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["get", "list", "watch", "delete"]
- apiGroups: [""]
  resources: ["pods/log"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["flux-framework.org"]
  resources: ["miniclusters"]
  verbs: ["get", "list", "watch", "create", "delete"]
{{- with .Values.rbac.extraSecretNames }}
{{- /* An empty resourceNames list would mean every Secret, so this rule exists only with names. */}}
- apiGroups: [""]
  resources: ["secrets"]
  resourceNames: {{ toJson . }}
  verbs: ["get"]
{{- end }}
{{- end }}

{{/* Reading the MiniCluster CRD tells the operator whether the Flux Operator is installed and gives the
model its schema; no other CRD is readable. */}}
{{- define "fractale.crdRules" -}}
- apiGroups: ["apiextensions.k8s.io"]
  resources: ["customresourcedefinitions"]
  resourceNames: ["miniclusters.flux-framework.org"]
  verbs: ["get"]
{{- end }}

{{/* Checks on combinations of values that the schema cannot express. */}}
{{- define "fractale.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: two leaders would reconcile the same objects" }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.health.port) }}
{{- fail "metrics.port and health.port must differ" }}
{{- end }}
{{- if and .Values.model.apiKey.existingSecret .Values.model.apiKey.value }}
{{- fail "set model.apiKey.existingSecret or model.apiKey.value, not both" }}
{{- end }}
{{- if and (eq .Values.model.provider "scripted") (not .Values.model.script) }}
{{- fail "model.provider scripted needs model.script (the answers file inside the container)" }}
{{- end }}
{{- end }}
