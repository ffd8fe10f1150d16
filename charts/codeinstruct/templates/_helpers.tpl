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

{{/* "true" when the service's pods request GPUs: gpu.count > 0, except the training service with the
kubernetes backend (its TrainJobs take the GPUs, the service only submits them). */}}
{{- define "codeinstruct.usesGpu" -}}
{{- if and (gt (int .svc.gpu.count) 0) (not (and (eq .name "training") .svc.kubernetesBackend.enabled)) }}true{{ end -}}
{{- end -}}

{{/* The node pool of a service: its `pool`, else gpu when its pods request GPUs, else cpu. */}}
{{- define "codeinstruct.pool" -}}
{{- .svc.pool | default (ternary "gpu" "cpu" (eq (include "codeinstruct.usesGpu" .) "true")) -}}
{{- end -}}

{{/* The services that load a model (and take the `model` values). */}}
{{- define "codeinstruct.modelServices" -}}
generation scoring training
{{- end -}}

{{/*
The model of a service as YAML: `model` with services.<name>.model laid over it, plus
  source: default (embedded, in the image) | path (an absolute folder) | hub (a Hugging Face id,
          fetched into the model volume) | served (the name an OpenAI-compatible server knows)
  path:   what the config gets (the fetched folder for hub models)
*/}}
{{- define "codeinstruct.model" -}}
{{- $m := deepCopy .root.Values.model -}}
{{- range $k, $v := (.svc.model | default dict) }}{{ $_ := set $m $k $v }}{{ end -}}
{{- $source := "hub" -}}
{{- if eq $m.model "default" }}{{ $source = "default" -}}
{{- else if hasPrefix "/" $m.model }}{{ $source = "path" -}}
{{- else if and (eq $m.engine "openai") (ne .name "training") }}{{ $source = "served" -}}
{{- end -}}
{{- $_ := set $m "source" $source -}}
{{- $_ := set $m "path" (ternary (printf "%s/%s/%s" .root.Values.modelCache.mountPath $m.model $m.revision) $m.model (eq $source "hub")) -}}
{{- toYaml $m -}}
{{- end -}}

{{/* "true" when the service ({root, name, svc}) mounts the model volume. */}}
{{- define "codeinstruct.mountsModels" -}}
{{- $mc := .root.Values.modelCache -}}
{{- if has .name (splitList " " (include "codeinstruct.modelServices" .root)) -}}
{{- $m := include "codeinstruct.model" . | fromYaml -}}
{{- if or (eq $m.source "hub") (and $mc.enabled (has .name $mc.services)) }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* "true" when some enabled service mounts the model volume (the chart then creates its claim). */}}
{{- define "codeinstruct.modelVolumeUsed" -}}
{{- range $name := splitList " " (include "codeinstruct.serviceNames" $) -}}
{{- $svc := index $.Values.services $name -}}
{{- if and $svc.enabled (include "codeinstruct.mountsModels" (dict "root" $ "name" $name "svc" $svc)) }}true{{ end -}}
{{- end -}}
{{- end -}}

{{/* Secret names and keys of the optional credentials ("" name = not configured). */}}
{{- define "codeinstruct.hfSecretName" -}}
{{- $v := .Values.huggingface -}}
{{- $v.existingSecret | default (ternary (printf "%s-huggingface" (include "codeinstruct.fullname" .)) "" (ne $v.token "")) -}}
{{- end -}}

{{- define "codeinstruct.openaiSecretName" -}}
{{- $v := .Values.openai -}}
{{- $v.existingSecret | default (ternary (printf "%s-openai" (include "codeinstruct.fullname" .)) "" (ne $v.apiKey "")) -}}
{{- end -}}

{{- define "codeinstruct.objectStoreSecretName" -}}
{{- $v := .Values.objectStore -}}
{{- $v.existingSecret | default (ternary (printf "%s-object-store" (include "codeinstruct.fullname" .)) "" (ne $v.accessKeyId "")) -}}
{{- end -}}

{{- define "codeinstruct.sharedDataClaim" -}}
{{- .Values.sharedData.existingClaim | default (printf "%s-data" (include "codeinstruct.fullname" .)) -}}
{{- end -}}

{{/*
Refuse, at install time, a sandbox that could not serve, saying what to allow. Isolation "full"
(bubblewrap namespaces) needs user namespaces in its container; "none" needs a RuntimeClass (gVisor,
Kata) to be the kernel boundary.
*/}}
{{- define "codeinstruct.checkSandbox" -}}
{{- $iso := .svc.isolation -}}
{{- $cfg := include "codeinstruct.configFile" . | fromYaml -}}
{{- $mode := dig "sandbox" "isolation" "full" $cfg -}}
{{- $profiles := "use the defaults (= -f ci/sandbox-userns-values.yaml) on a cluster that allows user namespaces, or -f ci/sandbox-gvisor-values.yaml on a cluster with a gVisor RuntimeClass; docs/deployment.md, \"Sandbox isolation\"" -}}
{{- if eq $mode "full" -}}
{{- $missing := list -}}
{{- if not $iso.allowUserNamespaces }}{{ $missing = append $missing "services.sandbox.isolation.allowUserNamespaces=true (create user namespaces in the sandbox container)" }}{{ end -}}
{{- if eq (dig "type" "" $iso.seccompProfile) "RuntimeDefault" }}{{ $missing = append $missing "services.sandbox.isolation.seccompProfile Unconfined or a Localhost profile allowing unshare/clone(CLONE_NEWUSER)/mount (RuntimeDefault refuses them)" }}{{ end -}}
{{- if ne $iso.procMount "Unmasked" }}{{ $missing = append $missing "services.sandbox.isolation.procMount=Unmasked (mount a fresh /proc for the pid namespace)" }}{{ end -}}
{{- if ne $iso.hostUsers false }}{{ $missing = append $missing "services.sandbox.isolation.hostUsers=false (a pod user namespace: needed for Unmasked /proc)" }}{{ end -}}
{{- if $missing -}}
{{- fail (printf "the sandbox cannot serve: config.sandbox.isolation is \"full\" (bubblewrap namespaces around every run), which needs: %s. Either %s." (join "; " $missing) $profiles) -}}
{{- end -}}
{{- if not (semverCompare ">=1.33.0-0" .root.Capabilities.KubeVersion.Version) -}}
{{- fail (printf "the sandbox cannot serve: its pod user namespace (services.sandbox.isolation.hostUsers=false, procMount Unmasked) needs Kubernetes >= 1.33 (UserNamespacesSupport and ProcMountType on by default), containerd >= 2.0 or CRI-O >= 1.25 and Linux >= 6.3 on the nodes; this cluster is %s. Either upgrade, or use -f ci/sandbox-gvisor-values.yaml on a cluster with a gVisor RuntimeClass." .root.Capabilities.KubeVersion.Version) -}}
{{- end -}}
{{- else if and (eq $mode "none") (not .svc.runtimeClassName) -}}
{{- fail (printf "the sandbox would run untrusted code with rlimits only: config.sandbox.isolation is \"none\", which needs services.sandbox.runtimeClassName (gvisor or kata) as the kernel boundary. Either %s." $profiles) -}}
{{- end -}}
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
Lay mapping `src` over mapping `dst` key by key, nested mappings too (mutates dst). Unlike
mergeOverwrite, false, 0 and "" in src win as well.
*/}}
{{- define "codeinstruct.mergeInto" -}}
{{- $dst := .dst -}}
{{- range $k, $v := .src -}}
{{- if and (kindIs "map" $v) (kindIs "map" (get $dst $k)) -}}
{{- include "codeinstruct.mergeInto" (dict "dst" (get $dst $k) "src" $v) -}}
{{- else -}}
{{- $_ := set $dst $k $v -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The config file of one service: `config` with the service's `config` laid over it field by field
(mergeInto; a plain deep merge would drop false/0 overrides), plus what the chart derives unless the user set
it: scoring's sandbox address, the sandbox's worker count (its CPU limit) and the training
kubernetes backend's settings.
*/}}
{{- define "codeinstruct.configFile" -}}
{{- $root := .root -}}
{{- $cfg := deepCopy $root.Values.config -}}
{{- include "codeinstruct.mergeInto" (dict "dst" $cfg "src" (deepCopy .svc.config)) -}}
{{- if has .name (list "generation" "scoring") -}}
{{- /* The service's model (`model` + services.<name>.model) fills its engine, field by field. */ -}}
{{- $m := include "codeinstruct.model" . | fromYaml -}}
{{- $s := get $cfg .name | default dict -}}
{{- $engine := get $s "engine" | default dict -}}
{{- if kindIs "string" $engine }}{{ $engine = dict "engine" $engine }}{{ end -}}
{{- $derived := dict "engine" $m.engine "model" $m.path "dtype" $m.dtype -}}
{{- if eq $m.engine "openai" }}{{ $_ := set $derived "base_url" $m.baseUrl }}{{ end -}}
{{- range $k, $v := $derived }}{{ if not (hasKey $engine $k) }}{{ $_ := set $engine $k $v }}{{ end }}{{ end -}}
{{- $_ := set $s "engine" $engine -}}
{{- $_ := set $cfg .name $s -}}
{{- end -}}
{{- if eq .name "training" -}}
{{- $m := include "codeinstruct.model" . | fromYaml -}}
{{- $t := get $cfg "training" | default dict -}}
{{- $dtype := $m.dtype -}}
{{- if eq $dtype "auto" }}{{ $dtype = ternary "bfloat16" "float32" (gt (int .svc.gpu.count) 0) }}{{ end -}}
{{- if not (hasKey $t "model") }}{{ $_ := set $t "model" $m.path }}{{ end -}}
{{- if not (hasKey $t "dtype") }}{{ $_ := set $t "dtype" $dtype }}{{ end -}}
{{- $_ := set $cfg "training" $t -}}
{{- end -}}
{{- if and (eq .name "training") .svc.kubernetesBackend.enabled -}}
{{- $t := get $cfg "training" | default dict -}}
{{- $jobs := get $t "jobs" | default dict -}}
{{- $k8s := get $jobs "kubernetes" | default dict -}}
{{- $gpus := int .svc.gpu.count -}}
{{- /* TrainJob pods take the GPUs: the GPU pool and image when gpu.count > 0. */ -}}
{{- $pool := index $root.Values.nodePools (.svc.pool | default (ternary "gpu" "cpu" (gt $gpus 0))) -}}
{{- $image := ternary (include "codeinstruct.gpuImage" $root) (printf "%s:%s" $root.Values.image.repository ($root.Values.image.tag | default $root.Chart.AppVersion)) (gt $gpus 0) -}}
{{- if not (hasKey $jobs "backend") }}{{ $_ := set $jobs "backend" "kubernetes" }}{{ end -}}
{{- $derived := dict "namespace" (include "codeinstruct.trainJobNamespace" $root) "image" $image "gpus" $gpus "node_selector" (merge (deepCopy .svc.nodeSelector) $pool.nodeSelector) "tolerations" (concat $pool.tolerations .svc.tolerations) -}}
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

{{/* HF_TOKEN from the huggingface Secret, when one is configured (root context). */}}
{{- define "codeinstruct.hfTokenEnv" -}}
{{- with include "codeinstruct.hfSecretName" . -}}
- name: HF_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ ternary $.Values.huggingface.existingSecretKey "token" (ne $.Values.huggingface.existingSecret "") }}
{{- end -}}
{{- end -}}

{{/* The AWS_* variables of the object store, when configured (root context). */}}
{{- define "codeinstruct.objectStoreEnv" -}}
{{- $os := .Values.objectStore -}}
{{- with include "codeinstruct.objectStoreSecretName" . -}}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ ternary $os.accessKeyIdKey "AWS_ACCESS_KEY_ID" (ne $os.existingSecret "") }}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ ternary $os.secretAccessKeyKey "AWS_SECRET_ACCESS_KEY" (ne $os.existingSecret "") }}
{{- end }}
{{- with $os.endpoint }}
- name: AWS_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- with $os.region }}
- name: AWS_DEFAULT_REGION
  value: {{ . | quote }}
{{- end -}}
{{- end -}}
