{{/*
Named templates. Names are prefixed with the chart name and truncated to 63 characters (the DNS
label limit). Per-service templates take a dict: {root: $, name: "<service>", svc: <values>}.
*/}}

{{/* The services in a fixed order (ranging over a map would too, but this says which exist). */}}
{{- define "codeinstruct.serviceNames" -}}
generation sandbox scoring training
{{- end -}}

{{- define "codeinstruct.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "codeinstruct.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "codeinstruct.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<fullname>-<component>", truncated so the suffix survives. */}}
{{- define "codeinstruct.componentName" -}}
{{- $full := include "codeinstruct.fullname" .root -}}
{{- printf "%s-%s" ($full | trunc (int (sub 62 (len .name))) | trimSuffix "-") .name -}}
{{- end -}}

{{- define "codeinstruct.selectorLabels" -}}
app.kubernetes.io/name: {{ include "codeinstruct.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "codeinstruct.labels" -}}
helm.sh/chart: {{ include "codeinstruct.chart" .root }}
{{ include "codeinstruct.selectorLabels" . }}
app.kubernetes.io/part-of: codeinstruct
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Labels of every pod of this release: what the sandbox NetworkPolicy admits. */}}
{{- define "codeinstruct.releasePodLabels" -}}
app.kubernetes.io/name: {{ include "codeinstruct.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The proto service name, used as the health-check service of the readiness probe. */}}
{{- define "codeinstruct.grpcServiceName" -}}
{{- printf "codeinstruct.v1.%sService" (title .name) -}}
{{- end -}}

{{/* In-cluster host:port of a service of this release ({root, name}). */}}
{{- define "codeinstruct.serviceAddress" -}}
{{- $svc := index .root.Values.services .name -}}
{{- printf "%s.%s.svc:%v" (include "codeinstruct.componentName" .) .root.Release.Namespace $svc.port -}}
{{- end -}}

{{- define "codeinstruct.usesGpu" -}}
{{- if gt (int .svc.gpu.count) 0 }}true{{ end -}}
{{- end -}}

{{/* repository:tag of a service: its own image, else the GPU image when it requests GPUs. */}}
{{- define "codeinstruct.image" -}}
{{- $root := .root -}}
{{- $base := $root.Values.image -}}
{{- $tag := $root.Chart.AppVersion -}}
{{- if include "codeinstruct.usesGpu" . -}}
{{- $base = $root.Values.gpuImage -}}
{{- $tag = printf "%s-gpu" $root.Chart.AppVersion -}}
{{- end -}}
{{- $repo := .svc.image.repository | default $base.repository -}}
{{- $tag = .svc.image.tag | default $base.tag | default $tag -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}

{{- define "codeinstruct.imagePullPolicy" -}}
{{- $base := .root.Values.image -}}
{{- if include "codeinstruct.usesGpu" . }}{{ $base = .root.Values.gpuImage }}{{ end -}}
{{- .svc.image.pullPolicy | default $base.pullPolicy -}}
{{- end -}}

{{/* The GPU image reference (TrainJob pods of the kubernetes training backend). */}}
{{- define "codeinstruct.gpuImage" -}}
{{- printf "%s:%s" .Values.gpuImage.repository (.Values.gpuImage.tag | default (printf "%s-gpu" .Chart.AppVersion)) -}}
{{- end -}}

{{/* `shutdown` merged with the service's override (key by key, so 0 overrides too). */}}
{{- define "codeinstruct.shutdown" -}}
{{- $out := deepCopy .root.Values.shutdown -}}
{{- range $k, $v := .svc.shutdown }}{{ $_ := set $out $k $v }}{{ end -}}
{{- toYaml $out -}}
{{- end -}}

{{- define "codeinstruct.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- include "codeinstruct.componentName" . -}}
{{- else -}}
{{- .svc.serviceAccountName | default "default" -}}
{{- end -}}
{{- end -}}

{{- define "codeinstruct.authSecretName" -}}
{{- .Values.auth.existingSecret | default (printf "%s-auth" (include "codeinstruct.fullname" .)) -}}
{{- end -}}

{{- define "codeinstruct.tlsSecretName" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "codeinstruct.fullname" .)) -}}
{{- end -}}

{{- define "codeinstruct.modelCacheClaim" -}}
{{- .Values.modelCache.existingClaim | default (printf "%s-models" (include "codeinstruct.fullname" .)) -}}
{{- end -}}

{{- define "codeinstruct.trainingClaim" -}}
{{- $p := .Values.services.training.persistence -}}
{{- $p.existingClaim | default (printf "%s-training-data" (include "codeinstruct.fullname" .)) -}}
{{- end -}}

{{- define "codeinstruct.trainJobNamespace" -}}
{{- .Values.services.training.kubernetesBackend.namespace | default .Release.Namespace -}}
{{- end -}}

{{/*
The config file of one service: `config` with the service's `config` laid over it field by field
(a plain deep merge would drop false/0 overrides), plus what the chart derives unless the user set
it: scoring's sandbox address, the sandbox's worker count (its CPU limit) and the training
kubernetes backend's settings.
*/}}
{{- define "codeinstruct.configFile" -}}
{{- $root := .root -}}
{{- $cfg := deepCopy $root.Values.config -}}
{{- range $section, $fields := .svc.config -}}
{{- $merged := deepCopy (get $cfg $section | default dict) -}}
{{- range $k, $v := $fields }}{{ $_ := set $merged $k $v }}{{ end -}}
{{- $_ := set $cfg $section $merged -}}
{{- end -}}
{{- if and (eq .name "training") .svc.kubernetesBackend.enabled -}}
{{- $t := get $cfg "training" | default dict -}}
{{- $jobs := get $t "jobs" | default dict -}}
{{- $k8s := get $jobs "kubernetes" | default dict -}}
{{- $pool := index $root.Values.nodePools .svc.pool -}}
{{- if not (hasKey $jobs "backend") }}{{ $_ := set $jobs "backend" "kubernetes" }}{{ end -}}
{{- $derived := dict "namespace" (include "codeinstruct.trainJobNamespace" $root) "image" (include "codeinstruct.gpuImage" $root) "gpus" (int .svc.gpu.count) "node_selector" (merge (deepCopy .svc.nodeSelector) $pool.nodeSelector) "tolerations" (concat $pool.tolerations .svc.tolerations) -}}
{{- if .svc.persistence.enabled }}{{ $_ := set $derived "pvc" (include "codeinstruct.trainingClaim" $root) }}{{ end -}}
{{- range $k, $v := $derived }}{{ if not (hasKey $k8s $k) }}{{ $_ := set $k8s $k $v }}{{ end }}{{ end -}}
{{- $_ := set $jobs "kubernetes" $k8s -}}
{{- $_ := set $t "jobs" $jobs -}}
{{- $_ := set $cfg "training" $t -}}
{{- end -}}
{{- if and (eq .name "scoring") $root.Values.services.sandbox.enabled -}}
{{- /* Scoring validates records by running them: through the sandbox deployed here. */ -}}
{{- $s := get $cfg "scoring" | default dict -}}
{{- if not (hasKey $s "sandbox_target") -}}
{{- $_ := set $s "sandbox_target" (include "codeinstruct.serviceAddress" (dict "root" $root "name" "sandbox")) -}}
{{- $_ := set $cfg "scoring" $s -}}
{{- end -}}
{{- end -}}
{{- if eq .name "sandbox" -}}
{{- /* os.cpu_count() in a container is the node's CPU count: size the worker pool to the CPU limit. */ -}}
{{- $s := get $cfg "sandbox" | default dict -}}
{{- $cpu := toString (dig "limits" "cpu" "" .svc.resources) -}}
{{- if and $cpu (not (hasKey $s "workers")) -}}
{{- $workers := 1 -}}
{{- if hasSuffix "m" $cpu }}{{ $workers = div (add (trimSuffix "m" $cpu | atoi) 999) 1000 }}{{ else }}{{ $workers = ceil (float64 $cpu) | int }}{{ end -}}
{{- $_ := set $s "workers" (max 1 $workers) -}}
{{- $_ := set $cfg "sandbox" $s -}}
{{- end -}}
{{- end -}}
{{- $out := dict -}}
{{- range $section, $fields := $cfg }}{{ if $fields }}{{ $_ := set $out $section $fields }}{{ end }}{{ end -}}
{{- if $out }}{{ toYaml $out }}{{ else }}{}{{ end -}}
{{- end -}}
