{{/*
The hook Jobs run before the release's own Secret exists (pre-install), so
with a chart-made Secret they read a hook-scoped copy of the keys they need,
created just before them and deleted once the hooks succeed.
*/}}
{{- define "orderflow.jobSecretName" -}}
{{- if .Values.secret.existingSecret }}
{{- .Values.secret.existingSecret }}
{{- else }}
{{- printf "%s-hook-secret" (include "orderflow.fullname" .) }}
{{- end }}
{{- end }}

{{/* Neither does the chart's ServiceAccount exist yet: the Jobs use the namespace's default one, without a token. */}}
{{- define "orderflow.jobPodCommon" -}}
{{- if and (not .Values.serviceAccount.create) .Values.serviceAccount.name }}
serviceAccountName: {{ .Values.serviceAccount.name }}
{{- end }}
automountServiceAccountToken: false
enableServiceLinks: false
restartPolicy: Never
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
