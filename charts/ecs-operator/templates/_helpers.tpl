{{/* Chart name, or nameOverride. */}}
{{- define "ecs-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's objects: fullnameOverride, else the release name when it already
contains the chart name, else <release>-<chart>. At most 63 characters (DNS label).
*/}}
{{- define "ecs-operator.fullname" -}}
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

{{/* A name derived from the full name with a suffix, still at most 63 characters. */}}
{{- define "ecs-operator.suffixed" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- printf "%s-%s" (include "ecs-operator.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix }}
{{- end }}

{{- define "ecs-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "ecs-operator.labels" -}}
helm.sh/chart: {{ include "ecs-operator.chart" . }}
{{ include "ecs-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: ecs-operator
{{- end }}

{{/* Labels that select the operator's pods. */}}
{{- define "ecs-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ecs-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ecs-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ecs-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "ecs-operator.leaseName" -}}
{{- default (include "ecs-operator.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is set. */}}
{{- define "ecs-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/*
What the operator does with its custom resources and events, in every namespace it watches:
- watch/list/get its six kinds (the controllers' watches, reading a referenced object);
- patch them: the finalizer is added and removed with a JSON patch on the main resource
  (the operator never writes spec);
- patch their /status (server-side apply under one field manager);
- create and patch events.k8s.io Events (patch when an event repeats as a series);
- delete an EcsTask once ttlSecondsAfterFinished passed after its run finished.
No create or update of the custom resources, no other delete, no core Events, nothing else.
*/}}
{{- define "ecs-operator.rules" -}}
- apiGroups: ["ecs.operator.dev"]
  resources: ["ecsclusters", "ecstaskdefinitions", "ecsservices", "ecstasks", "ecsscheduledtasks", "ecscapacityproviders"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["ecs.operator.dev"]
  resources: ["ecsclusters/status", "ecstaskdefinitions/status", "ecsservices/status", "ecstasks/status", "ecsscheduledtasks/status", "ecscapacityproviders/status"]
  verbs: ["patch"]
- apiGroups: ["ecs.operator.dev"]
  resources: ["ecstasks"]
  verbs: ["delete"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
