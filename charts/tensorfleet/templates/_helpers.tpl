{{/* The release's base name: the release name when it already says tensorfleet, else release-tensorfleet. */}}
{{- define "tensorfleet.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 54 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 54 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tensorfleet.operatorName" -}}
{{- printf "%s-operator" (include "tensorfleet.fullname" .) -}}
{{- end -}}

{{- define "tensorfleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tensorfleet.operatorName" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tensorfleet.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "tensorfleet.selectorLabels" -}}
app.kubernetes.io/name: tensorfleet-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tensorfleet.labels" -}}
{{ include "tensorfleet.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* What the operator needs in the namespaces it watches (kept equal to deploy/rbac.yaml by a test). */}}
{{- define "tensorfleet.operatorRules" -}}
# Watch ServedModels and report on them.
- apiGroups: [tensorfleet.dev]
  resources: [servedmodels]
  verbs: [get, list, watch]
- apiGroups: [tensorfleet.dev]
  resources: [servedmodels/status]
  verbs: [get, patch, update]
# ownerReferences with blockOwnerDeletion need this where OwnerReferencesPermissionEnforcement is on.
- apiGroups: [tensorfleet.dev]
  resources: [servedmodels/finalizers]
  verbs: [update]
# What a ServedModel owns (server-side apply is a patch; a PDB is deleted when replicas drop to 1).
- apiGroups: [""]
  resources: [configmaps, services]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch, create, patch, update, delete]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [get, list, watch, create, patch, update, delete]
# spec.autoscaling's HorizontalPodAutoscaler (it scales the ServedModel; the HPA controller's own role covers servedmodels/scale).
- apiGroups: [autoscaling]
  resources: [horizontalpodautoscalers]
  verbs: [get, list, watch, create, patch, update, delete]
# The ready pods of each ServedModel's headless Service, whose model servers status asks.
- apiGroups: [discovery.k8s.io]
  resources: [endpointslices]
  verbs: [list, watch]
# Only to check that a referenced credentials Secret exists and has the expected keys; never listed or watched.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
# Only to report whether a pvc:// source's PersistentVolumeClaim exists and is bound.
- apiGroups: [""]
  resources: [persistentvolumeclaims]
  verbs: [get]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end -}}
