{{/* The prefix of every object's name: the release name, with "-trantor" unless it already says so. */}}
{{- define "trantor.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else if contains "trantor" .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-trantor" .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "trantor.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "trantor.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "trantor.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "trantor.labels" -}}
app.kubernetes.io/name: trantor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "trantor.selectorLabels" -}}
app.kubernetes.io/name: trantor
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* registry/repository:tag of an image value, the tag defaulting to the chart's appVersion. */}}
{{- define "trantor.image" -}}
{{- $image := index . 0 -}}{{- $chart := index . 1 -}}
{{- printf "%s/%s:%s" $image.registry $image.repository (default $chart.AppVersion $image.tag) -}}
{{- end -}}

{{/* Seldon's flat cpuRequest/cpuLimit/memoryRequest/memoryLimit as a Kubernetes resources object. */}}
{{- define "trantor.resources" -}}
{{- dict "requests" (dict "cpu" (toString .cpuRequest) "memory" (toString .memoryRequest)) "limits" (dict "cpu" (toString .cpuLimit) "memory" (toString .memoryLimit)) | toJson -}}
{{- end -}}

{{/* self or certManager (Seldon's certManager.enabled is the same as webhook.certs=certManager). */}}
{{- define "trantor.webhookCerts" -}}
{{- if .Values.certManager.enabled -}}certManager{{- else -}}{{ .Values.webhook.certs }}{{- end -}}
{{- end -}}

{{/* The namespaces the operator reconciles, as a list; empty means every namespace. */}}
{{- define "trantor.watchNamespaces" -}}
{{- if .Values.watchNamespaces -}}
{{- .Values.watchNamespaces | uniq | toJson -}}
{{- else if .Values.singleNamespace -}}
{{- list (include "trantor.namespace" .) | toJson -}}
{{- else -}}
[]
{{- end -}}
{{- end -}}

{{/*
The operator's render configuration: src/runtime/kubernetes/config.ts's RenderConfig, key for key,
built from the values. The operator reads it from the ConfigMap key render.json; docs/helm.md
("The operator's contract") describes it.
*/}}
{{- define "trantor.renderConfig" -}}
{{- $v := .Values -}}
{{- $executor := dict
  "image" (include "trantor.image" (list $v.executor.image .Chart))
  "port" $v.executor.port
  "grpcPort" $v.executor.grpcPort
  "user" $v.executor.user
  "resources" (include "trantor.resources" $v.executor.resources | fromJson)
  "requestLoggerDefaultEndpoint" $v.executor.requestLogger.defaultEndpoint
  "requestLoggerWorkQueueSize" $v.executor.requestLogger.workQueueSize
  "requestLoggerWriteTimeoutMs" $v.executor.requestLogger.writeTimeoutMs
  "fullHealthChecks" $v.executor.fullHealthChecks
  "prometheusPath" $v.executor.prometheus.path -}}
{{- $storage := dict
  "image" $v.storageInitializer.image
  "resources" (include "trantor.resources" $v.storageInitializer | fromJson) -}}
{{- $gateway := dict
  "enabled" $v.gateway.enabled
  "image" (include "trantor.image" (list $v.gateway.image .Chart))
  "replicas" $v.gateway.replicas
  "resources" (include "trantor.resources" $v.gateway.resources | fromJson) -}}
{{- dict
  "executor" $executor
  "predictiveUnit" (pick $v.predictiveUnit "httpPort" "grpcPort" "metricsPort" "defaultEnvSecretRefName")
  "storageInitializer" $storage
  "predictorServers" $v.predictor_servers
  "defaultUserId" $v.defaultUserID
  "keda" (dict "enabled" $v.keda.enabled)
  "istio" (dict "enabled" $v.istio.enabled "gateway" $v.istio.gateway "tlsMode" $v.istio.tlsMode)
  "ambassador" (dict "enabled" $v.ambassador.enabled)
  "gateway" $gateway
  "ingress" (dict "enabled" $v.ingress.enabled "className" $v.ingress.className "host" $v.ingress.host)
  "gatewayApi" (dict "enabled" $v.gatewayApi.enabled "parentRefs" $v.gatewayApi.parentRefs "hostnames" $v.gatewayApi.hostnames)
  | toPrettyJson -}}
{{- end -}}

{{/* Settings that cannot work together fail the install, with the same words as the operator. */}}
{{- define "trantor.check" -}}
{{- if and .Values.ingress.enabled (not .Values.gateway.enabled) -}}
{{- fail "ingress.enabled needs gateway.enabled: the Ingress routes /seldon/<namespace>/<name>/ to Trantor's gateway" -}}
{{- end -}}
{{- if and .Values.gatewayApi.enabled (not .Values.gateway.enabled) -}}
{{- fail "gatewayApi.enabled needs gateway.enabled: the HTTPRoute routes /seldon/<namespace>/<name>/ to Trantor's gateway" -}}
{{- end -}}
{{- if and .Values.gatewayApi.enabled (not .Values.gatewayApi.parentRefs) -}}
{{- fail "gatewayApi.enabled needs gatewayApi.parentRefs: the Gateway(s) the HTTPRoute attaches to" -}}
{{- end -}}
{{- if not (has (include "trantor.webhookCerts" .) (list "self" "certManager")) -}}
{{- fail (printf "webhook.certs must be self or certManager, not %q" .Values.webhook.certs) -}}
{{- end -}}
{{- if and .Values.singleNamespace .Values.watchNamespaces -}}
{{- fail "set singleNamespace or watchNamespaces, not both" -}}
{{- end -}}
{{- end -}}
