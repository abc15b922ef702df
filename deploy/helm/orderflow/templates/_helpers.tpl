{{/*
Names and labels.
*/}}
{{- define "orderflow.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "orderflow.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "orderflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "orderflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ include "orderflow.tag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: orderflow
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "orderflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "orderflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "orderflow.tag" -}}
{{- .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/* Image of one program: (dict "root" $ "name" "api"). */}}
{{- define "orderflow.image" -}}
{{- printf "%s%s:%s" .root.Values.image.prefix .name (include "orderflow.tag" .root) }}
{{- end }}

{{- define "orderflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- .Values.serviceAccount.name | default (include "orderflow.fullname" .) }}
{{- else }}
{{- .Values.serviceAccount.name | default "default" }}
{{- end }}
{{- end }}

{{/*
Secrets. The Secret every service reads is the user's (existingSecret) or
the chart's; an optional key counts as present when it is listed in
existingSecretKeys, or has a value in data for the chart's Secret.
*/}}
{{- define "orderflow.secretName" -}}
{{- .Values.secret.existingSecret | default (printf "%s-secret" (include "orderflow.fullname" .)) }}
{{- end }}

{{/* "true" when the Secret holds the key: (dict "root" $ "key" "api-keys"). */}}
{{- define "orderflow.hasKey" -}}
{{- $s := .root.Values.secret }}
{{- if eq .key "database-url" }}true
{{- else if $s.existingSecret }}{{ if has .key $s.existingSecretKeys }}true{{ end }}
{{- else if index $s.data .key }}true
{{- end }}
{{- end }}

{{/*
What each service needs, from the code (README "Configuration"): its
dependencies, its NATS role and the secret files it reads. A contract, not
a setting, so it lives here and not in values.yaml.
*/}}
{{- define "orderflow.catalog" -}}
api:
  postgres: true
  nats: true
  temporal: false
  http: true
  files: [api-keys, codec-keys]
bridge:
  postgres: false
  nats: true
  temporal: true
  files: [codec-keys, temporal-api-key, temporal-config]
order-worker:
  postgres: true
  nats: true
  temporal: true
  files: [codec-keys, temporal-api-key, temporal-config]
shipping-worker:
  postgres: true
  nats: false
  temporal: true
  files: [codec-keys, temporal-api-key, temporal-config]
projector:
  postgres: true
  nats: true
  temporal: false
  files: []
{{- end }}

{{/* The services in start order (readers before writers do not matter: all wait for their dependencies). */}}
{{- define "orderflow.serviceNames" -}}
[api, bridge, order-worker, shipping-worker, projector]
{{- end }}

{{/*
Secret files one service mounts: a list of keys, as YAML. Secrets reach the
processes as files only (<NAME>_FILE, shared/config), never as environment
variables, so they are not in the pod spec or /proc/<pid>/environ.
(dict "root" $ "name" "api")
*/}}
{{- define "orderflow.secretFiles" -}}
{{- $need := index (include "orderflow.catalog" .root | fromYaml) .name }}
{{- $out := list }}
{{- if $need.postgres }}{{ $out = append $out "database-url" }}{{ end }}
{{- if and $need.nats .root.Values.nats.auth.enabled }}{{ $out = append $out (printf "nats-password-%s" .name) }}{{ end }}
{{- range $need.files }}
{{- if include "orderflow.hasKey" (dict "root" $.root "key" .) }}
{{- $out = append $out . }}
{{- end }}
{{- end }}
{{- toYaml (dict "files" $out) }}
{{- end }}

{{- define "orderflow.secretDir" -}}/etc/orderflow/secrets{{- end }}

{{/*
Non-secret environment of one service, as YAML: what the chart derives from
its values, then values.env, then services.<name>.env; the listener
addresses last, since the probes and Services are built on them.
(dict "root" $ "name" "api")
*/}}
{{- define "orderflow.env" -}}
{{- $v := .root.Values }}
{{- $need := index (include "orderflow.catalog" .root | fromYaml) .name }}
{{- $svc := index $v.services .name }}
{{- $files := (include "orderflow.secretFiles" . | fromYaml).files }}
{{- $dir := include "orderflow.secretDir" . }}
{{- $env := dict }}
{{- if $need.postgres }}
{{- $_ := set $env "DATABASE_URL_FILE" (printf "%s/database-url" $dir) }}
{{- $_ := set $env "DATABASE_MAX_CONNS" ($v.postgres.maxConns | toString) }}
{{- end }}
{{- if $need.nats }}
{{- $_ := set $env "NATS_URL" $v.nats.url }}
{{- $_ := set $env "NATS_PROVISION_STREAMS" ($v.nats.provisionStreams | toString) }}
{{- if $v.nats.auth.enabled }}
{{- $_ := set $env "NATS_USER" .name }}
{{- $_ := set $env "NATS_PASSWORD_FILE" (printf "%s/nats-password-%s" $dir .name) }}
{{- $_ := set $env "NATS_INBOX_PREFIX" (printf "_INBOX.%s" .name) }}
{{- end }}
{{- if $v.nats.tls.secretName }}
{{- $_ := set $env "NATS_TLS_CA_FILE" "/etc/orderflow/nats-tls/ca.crt" }}
{{- if $v.nats.tls.clientCert }}
{{- $_ := set $env "NATS_TLS_CERT_FILE" "/etc/orderflow/nats-tls/tls.crt" }}
{{- $_ := set $env "NATS_TLS_KEY_FILE" "/etc/orderflow/nats-tls/tls.key" }}
{{- end }}
{{- end }}
{{- end }}
{{- if $need.temporal }}
{{- $t := $v.temporal }}
{{- $_ := set $env "TEMPORAL_ADDRESS" $t.address }}
{{- $_ := set $env "TEMPORAL_NAMESPACE" $t.namespace }}
{{- $_ := set $env "ORDERS_TASK_QUEUE" $t.ordersTaskQueue }}
{{- $_ := set $env "SHIPPING_TASK_QUEUE" $t.shippingTaskQueue }}
{{- if $t.tls.enabled }}
{{- $_ := set $env "TEMPORAL_TLS" "true" }}
{{- if $t.tls.serverName }}
{{- $_ := set $env "TEMPORAL_TLS_SERVER_NAME" $t.tls.serverName }}
{{- end }}
{{- if $t.tls.secretName }}
{{- $_ := set $env "TEMPORAL_TLS_CA_FILE" "/etc/orderflow/temporal-tls/ca.crt" }}
{{- if $t.tls.clientCert }}
{{- $_ := set $env "TEMPORAL_TLS_CERT_FILE" "/etc/orderflow/temporal-tls/tls.crt" }}
{{- $_ := set $env "TEMPORAL_TLS_KEY_FILE" "/etc/orderflow/temporal-tls/tls.key" }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- if has "api-keys" $files }}
{{- $_ := set $env "API_KEYS_FILE" (printf "%s/api-keys" $dir) }}
{{- end }}
{{- if has "codec-keys" $files }}
{{- $_ := set $env "TEMPORAL_CODEC_KEYS_FILE" (printf "%s/codec-keys" $dir) }}
{{- end }}
{{- if has "temporal-api-key" $files }}
{{- $_ := set $env "TEMPORAL_API_KEY_FILE" (printf "%s/temporal-api-key" $dir) }}
{{- end }}
{{- if has "temporal-config" $files }}
{{- $_ := set $env "TEMPORAL_CONFIG_FILE" (printf "%s/temporal-config" $dir) }}
{{- end }}
{{- if and $need.temporal $v.temporal.profile }}
{{- $_ := set $env "TEMPORAL_PROFILE" $v.temporal.profile }}
{{- end }}
{{- range $k, $val := $v.env }}
{{- $_ := set $env $k ($val | toString) }}
{{- end }}
{{- range $k, $val := $svc.env }}
{{- $_ := set $env $k ($val | toString) }}
{{- end }}
{{- $_ := set $env "OPS_ADDR" (printf ":%v" $svc.opsPort) }}
{{- if $need.http }}
{{- $_ := set $env "HTTP_ADDR" ":8000" }}
{{- end }}
{{- /* A file path may be named here; a secret value may not. */}}
{{- range $k, $_ := $env }}
{{- if and (not (hasSuffix "_FILE" $k)) (or (eq $k "DATABASE_URL") (regexMatch "PASSWORD|SECRET|TOKEN" $k)) }}
{{- fail (printf "%s is secret: put it in the Secret (secret.data or secret.existingSecret), not in env" $k) }}
{{- end }}
{{- end }}
{{- toYaml $env }}
{{- end }}

{{/* Pod-level settings shared by Deployments and Jobs. */}}
{{- define "orderflow.podCommon" -}}
serviceAccountName: {{ include "orderflow.serviceAccountName" . }}
automountServiceAccountToken: false
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}
