package helm

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	chartDir = "orderflow"
	release  = "shop"
	fullname = "shop-orderflow"
)

// opsPorts are the services' ops listeners as the README documents them;
// the chart must probe and scrape exactly these.
var opsPorts = map[string]int{
	"api":             9181,
	"bridge":          9182,
	"order-worker":    9183,
	"shipping-worker": 9184,
	"projector":       9185,
}

// Which services talk to PostgreSQL and NATS (services/*/.../config.go).
var (
	usesPostgres = []string{"api", "order-worker", "shipping-worker", "projector"}
	usesNATS     = []string{"api", "bridge", "order-worker", "projector"}
)

// helm returns the pinned helm binary. Missing is a failure: the chart is
// part of what `make test` checks, and a skipped check checks nothing.
func helm(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("HELM_BIN")
	if bin == "" {
		t.Fatal("HELM_BIN is not set: run `make test` (it builds .bin/helm from deploy/helm/tools) or set HELM_BIN to a helm v3 binary")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("HELM_BIN=%s: %v (build it with `make .bin/helm`)", bin, err)
	}
	return bin
}

func runHelm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	// No repositories, plugins or caches of the machine's user.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+home, "HELM_CACHE_HOME="+home, "HELM_DATA_HOME="+home)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if err != nil {
		hint := ""
		if strings.Contains(errOut.String(), "incompatible with Kubernetes v1.20.0") {
			// helm built without its Makefile's -X flags assumes v1.20.
			hint = "\n(HELM_BIN is not version-stamped: build it with `make helm`)"
		}
		return out.String(), fmt.Errorf("helm %s: %w\n%s%s%s", strings.Join(args, " "), err, out.String(), errOut.String(), hint)
	}
	return out.String(), nil
}

// manifests is one rendering of the chart.
type manifests struct {
	text string
	docs []doc
}

type doc struct {
	Kind     string `yaml:"kind"`
	Metadata meta   `yaml:"metadata"`
	node     *yaml.Node
}

type meta struct {
	Name        string            `yaml:"name"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func render(t *testing.T, set ...string) manifests {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", "shop"}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	out, err := runHelm(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	m := manifests{text: out}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, out)
		}
		var d doc
		if err := n.Decode(&d); err != nil {
			t.Fatal(err)
		}
		if d.Kind == "" {
			continue // an empty document between separators
		}
		d.node = &n
		m.docs = append(m.docs, d)
	}
	return m
}

// get decodes the object kind/name into v, failing when it is absent.
func (m manifests) get(t *testing.T, kind, name string, v any) {
	t.Helper()
	if !m.decode(t, kind, name, v) {
		t.Fatalf("no %s %q rendered; have %v", kind, name, m.names())
	}
}

func (m manifests) decode(t *testing.T, kind, name string, v any) bool {
	t.Helper()
	for _, d := range m.docs {
		if d.Kind == kind && d.Metadata.Name == name {
			if err := d.node.Decode(v); err != nil {
				t.Fatalf("%s %s: %v", kind, name, err)
			}
			return true
		}
	}
	return false
}

func (m manifests) all(kind string) []doc {
	var out []doc
	for _, d := range m.docs {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

func (m manifests) names() []string {
	var out []string
	for _, d := range m.docs {
		out = append(out, d.Kind+"/"+d.Metadata.Name)
	}
	return out
}

// The parts of the Kubernetes objects the assertions read.
type (
	deployment struct {
		Metadata meta `yaml:"metadata"`
		Spec     struct {
			Replicas int `yaml:"replicas"`
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	job struct {
		Metadata meta `yaml:"metadata"`
		Spec     struct {
			Template podTemplate `yaml:"template"`
		} `yaml:"spec"`
	}
	podTemplate struct {
		Metadata meta    `yaml:"metadata"`
		Spec     podSpec `yaml:"spec"`
	}
	podSpec struct {
		ServiceAccountName           string      `yaml:"serviceAccountName"`
		AutomountServiceAccountToken *bool       `yaml:"automountServiceAccountToken"`
		SecurityContext              podSecurity `yaml:"securityContext"`
		Containers                   []container `yaml:"containers"`
		Volumes                      []volume    `yaml:"volumes"`
	}
	podSecurity struct {
		RunAsNonRoot *bool `yaml:"runAsNonRoot"`
		RunAsUser    int   `yaml:"runAsUser"`
	}
	container struct {
		Name    string   `yaml:"name"`
		Image   string   `yaml:"image"`
		Args    []string `yaml:"args"`
		EnvFrom []struct {
			ConfigMapRef *struct {
				Name string `yaml:"name"`
			} `yaml:"configMapRef"`
		} `yaml:"envFrom"`
		Env   []envVar `yaml:"env"`
		Ports []struct {
			Name          string `yaml:"name"`
			ContainerPort int    `yaml:"containerPort"`
		} `yaml:"ports"`
		LivenessProbe  *probe `yaml:"livenessProbe"`
		ReadinessProbe *probe `yaml:"readinessProbe"`
		StartupProbe   *probe `yaml:"startupProbe"`
		Resources      struct {
			Requests map[string]string `yaml:"requests"`
			Limits   map[string]string `yaml:"limits"`
		} `yaml:"resources"`
		SecurityContext struct {
			ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
			AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
			Capabilities             struct {
				Drop []string `yaml:"drop"`
			} `yaml:"capabilities"`
		} `yaml:"securityContext"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	}
	envVar struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef *struct {
				Name string `yaml:"name"`
				Key  string `yaml:"key"`
			} `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	}
	probe struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
		PeriodSeconds int `yaml:"periodSeconds"`
	}
	volume struct {
		Name   string `yaml:"name"`
		Secret *struct {
			SecretName string `yaml:"secretName"`
			Items      []struct {
				Key  string `yaml:"key"`
				Path string `yaml:"path"`
			} `yaml:"items"`
		} `yaml:"secret"`
	}
	service struct {
		Metadata meta `yaml:"metadata"`
		Spec     struct {
			ClusterIP string            `yaml:"clusterIP"`
			Selector  map[string]string `yaml:"selector"`
			Ports     []struct {
				Name       string `yaml:"name"`
				Port       int    `yaml:"port"`
				TargetPort string `yaml:"targetPort"`
			} `yaml:"ports"`
		} `yaml:"spec"`
	}
	pdb struct {
		Spec struct {
			MaxUnavailable *int `yaml:"maxUnavailable"`
			MinAvailable   *int `yaml:"minAvailable"`
			Selector       struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
		} `yaml:"spec"`
	}
	configMap struct {
		Data map[string]string `yaml:"data"`
	}
	secret struct {
		Data map[string]string `yaml:"data"`
	}
)

func (c container) env(name string) (envVar, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e, true
		}
	}
	return envVar{}, false
}

func (c container) port(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func (c container) mounted(volume string) bool { return c.mountPath(volume) != "" }

func (c container) mountPath(volume string) string {
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	return ""
}

// secretFile checks that path (a <NAME>_FILE value) is key of Secret
// secretName, mounted in the pod's first container.
func secretFile(t *testing.T, who string, pod podSpec, path, secretName, key string) {
	t.Helper()
	c := pod.Containers[0]
	for _, v := range pod.Volumes {
		if v.Secret == nil || v.Secret.SecretName != secretName {
			continue
		}
		dir := c.mountPath(v.Name)
		for _, it := range v.Secret.Items {
			if it.Key == key && dir != "" && path == dir+"/"+it.Path {
				return
			}
		}
	}
	t.Errorf("%s: %q is not key %s of Secret %s as mounted (volumes %+v, mounts %+v)", who, path, key, secretName, pod.Volumes, c.VolumeMounts)
}

// noSecretEnv: secrets reach the processes as files only, so they are
// neither in the pod spec nor in the process environment.
func noSecretEnv(t *testing.T, who string, pod podSpec) {
	t.Helper()
	for _, e := range pod.Containers[0].Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			t.Errorf("%s: %s comes from a Secret as an environment variable; mount it and set %s_FILE", who, e.Name, e.Name)
		}
	}
}

// selects reports whether selector picks pods with labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool { return b != nil && *b }

// readEnvNames are the variables some config struct of the services, the
// shared module or the CLI reads (`env:"NAME"` tags): the chart may set
// nothing else, or a typo would silently configure nothing.
func readEnvNames(t *testing.T) map[string]bool {
	t.Helper()
	tag := regexp.MustCompile(`env:"([A-Z0-9_]+)"`)
	names := map[string]bool{}
	defer func() {
		// shared/config reads every variable from <NAME>_FILE as well.
		for n := range maps.Clone(names) {
			names[n+"_FILE"] = true
		}
	}()
	for _, root := range []string{"../../services", "../../shared", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range tag.FindAllSubmatch(b, -1) {
				names[string(m[1])] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(names) < 50 {
		t.Fatalf("found only %d env tags in the sources; did the layout change?", len(names))
	}
	return names
}

func TestLint(t *testing.T) {
	for name, set := range map[string][]string{
		"defaults": nil,
		"overrides": {
			"replicas=3", "services.projector.replicas=1",
			"secret.existingSecret=shop-secrets", "secret.existingSecretKeys={api-keys,codec-keys}",
			"nats.auth.enabled=true", "nats.tls.secretName=nats-tls", "nats.tls.clientCert=true",
			"temporal.tls.enabled=true", "temporal.tls.secretName=temporal-tls",
			"postgres.tls.caSecretName=pg-ca",
		},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"lint", "--strict", chartDir}
			for _, s := range set {
				args = append(args, "--set", s)
			}
			if out, err := runHelm(t, args...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

func TestDefaultsRenderEveryService(t *testing.T) {
	m := render(t)
	known := readEnvNames(t)

	for name, opsPort := range opsPorts {
		t.Run(name, func(t *testing.T) {
			var d deployment
			m.get(t, "Deployment", fullname+"-"+name, &d)
			if d.Spec.Replicas != 2 {
				t.Errorf("replicas %d, want the default 2", d.Spec.Replicas)
			}
			labels := d.Spec.Template.Metadata.Labels
			if !selects(d.Spec.Selector.MatchLabels, labels) {
				t.Errorf("selector %v does not match the pod labels %v", d.Spec.Selector.MatchLabels, labels)
			}
			pod := d.Spec.Template.Spec
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers, want 1", len(pod.Containers))
			}
			c := pod.Containers[0]
			if want := "orderflow/" + name + ":local"; c.Image != want {
				t.Errorf("image %q, want %q (what `make images` builds)", c.Image, want)
			}

			// Probes on the ops listener, where the process listens.
			if got := c.port("ops"); got != opsPort {
				t.Errorf("ops port %d, want %d", got, opsPort)
			}
			for kind, p := range map[string]*probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
				want := map[string]string{"liveness": "/livez", "readiness": "/readyz", "startup": "/livez"}[kind]
				if p == nil || p.HTTPGet == nil {
					t.Errorf("no %s httpGet probe", kind)
					continue
				}
				if p.HTTPGet.Path != want || p.HTTPGet.Port != "ops" {
					t.Errorf("%s probe %s on port %q, want %s on ops", kind, p.HTTPGet.Path, p.HTTPGet.Port, want)
				}
			}
			var cm configMap
			if len(c.EnvFrom) != 1 || c.EnvFrom[0].ConfigMapRef == nil {
				t.Fatalf("envFrom %+v, want the service's ConfigMap", c.EnvFrom)
			}
			m.get(t, "ConfigMap", c.EnvFrom[0].ConfigMapRef.Name, &cm)
			if want := fmt.Sprintf(":%d", opsPort); cm.Data["OPS_ADDR"] != want {
				t.Errorf("OPS_ADDR %q, want %q (all interfaces, so the kubelet reaches it)", cm.Data["OPS_ADDR"], want)
			}
			for k := range cm.Data {
				if !known[k] {
					t.Errorf("ConfigMap sets %s, which no config struct reads", k)
				}
			}
			if slices.Contains(usesNATS, name) && cm.Data["NATS_PROVISION_STREAMS"] != "false" {
				t.Errorf("NATS_PROVISION_STREAMS=%q: services must only verify the streams the Job provisions", cm.Data["NATS_PROVISION_STREAMS"])
			}
			if !slices.Contains(usesNATS, name) && cm.Data["NATS_URL"] != "" {
				t.Errorf("%s sends no NATS traffic but gets NATS_URL", name)
			}

			// The database URL is secret: a file from the Secret, never in the ConfigMap.
			if _, ok := cm.Data["DATABASE_URL"]; ok {
				t.Error("DATABASE_URL in the ConfigMap")
			}
			noSecretEnv(t, name, pod)
			if slices.Contains(usesPostgres, name) {
				secretFile(t, name, pod, cm.Data["DATABASE_URL_FILE"], fullname+"-secret", "database-url")
			} else if cm.Data["DATABASE_URL_FILE"] != "" {
				t.Errorf("%s does not use PostgreSQL but gets DATABASE_URL_FILE", name)
			}

			// Resources: requests for the scheduler, a memory limit.
			for _, r := range []string{"cpu", "memory"} {
				if c.Resources.Requests[r] == "" {
					t.Errorf("no %s request", r)
				}
			}
			if c.Resources.Limits["memory"] == "" {
				t.Error("no memory limit")
			}

			// Non-root, read-only root filesystem, nothing to escalate to.
			if !isTrue(pod.SecurityContext.RunAsNonRoot) || pod.SecurityContext.RunAsUser != 65532 {
				t.Errorf("pod security %+v, want runAsNonRoot as 65532 (the images' user)", pod.SecurityContext)
			}
			sc := c.SecurityContext
			if !isTrue(sc.ReadOnlyRootFilesystem) || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Errorf("container security %+v, want a read-only root, no escalation, all capabilities dropped", sc)
			}
			if !c.mounted("tmp") {
				t.Error("no writable /tmp for a read-only root filesystem")
			}
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("the service account token is mounted; the services never call the Kubernetes API")
			}

			// A budget per service, over exactly its pods.
			var b pdb
			m.get(t, "PodDisruptionBudget", fullname+"-"+name, &b)
			if !selects(b.Spec.Selector.MatchLabels, labels) {
				t.Errorf("PDB selector %v does not pick the pods %v", b.Spec.Selector.MatchLabels, labels)
			}
			if b.Spec.MaxUnavailable == nil || *b.Spec.MaxUnavailable != 1 {
				t.Errorf("PDB maxUnavailable %v, want 1", b.Spec.MaxUnavailable)
			}

			// A headless ops Service with scrape annotations.
			var s service
			m.get(t, "Service", fullname+"-"+name+"-ops", &s)
			if s.Spec.ClusterIP != "None" || !selects(s.Spec.Selector, labels) {
				t.Errorf("ops Service clusterIP %q selector %v: want headless over the pods", s.Spec.ClusterIP, s.Spec.Selector)
			}
			if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Port != opsPort || s.Spec.Ports[0].TargetPort != "ops" {
				t.Errorf("ops Service ports %+v", s.Spec.Ports)
			}
			a := s.Metadata.Annotations
			if a["prometheus.io/scrape"] != "true" || a["prometheus.io/port"] != fmt.Sprint(opsPort) || a["prometheus.io/path"] != "/metrics" {
				t.Errorf("scrape annotations %v", a)
			}
		})
	}

	t.Run("api service", func(t *testing.T) {
		var s service
		m.get(t, "Service", fullname+"-api", &s)
		var d deployment
		m.get(t, "Deployment", fullname+"-api", &d)
		if !selects(s.Spec.Selector, d.Spec.Template.Metadata.Labels) || len(s.Spec.Ports) != 1 || s.Spec.Ports[0].TargetPort != "http" {
			t.Fatalf("API Service %+v does not reach the API's http port", s.Spec)
		}
		if p := d.Spec.Template.Spec.Containers[0].port("http"); p != 8000 {
			t.Errorf("http port %d, want 8000", p)
		}
		var cm configMap
		m.get(t, "ConfigMap", fullname+"-api", &cm)
		if cm.Data["HTTP_ADDR"] != ":8000" || cm.Data["API_ALLOW_OPEN"] != "false" {
			t.Errorf("HTTP_ADDR %q API_ALLOW_OPEN %q, want :8000 and false", cm.Data["HTTP_ADDR"], cm.Data["API_ALLOW_OPEN"])
		}
	})

	t.Run("hooks", func(t *testing.T) {
		hookSecret := fullname + "-hook-secret"
		var hs secret
		m.get(t, "Secret", hookSecret, &hs)
		secretWeight := weightOf(t, m, "Secret", hookSecret)
		for _, tc := range []struct {
			name, image string
			args        []string
			env         string
		}{
			{fullname + "-migrate", "orderflow/migrate:local", nil, "DATABASE_URL_FILE"},
			{fullname + "-streams", "orderflow/orderflow:local", []string{"streams", "provision"}, "NATS_URL"},
		} {
			var j job
			m.get(t, "Job", tc.name, &j)
			hooks := strings.Split(j.Metadata.Annotations["helm.sh/hook"], ",")
			if !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
				t.Errorf("%s hooks %v, want pre-install and pre-upgrade", tc.name, hooks)
			}
			if w := weightOf(t, m, "Job", tc.name); w <= secretWeight {
				t.Errorf("%s weight %d runs before its Secret (weight %d)", tc.name, w, secretWeight)
			}
			c := j.Spec.Template.Spec.Containers[0]
			if c.Image != tc.image || !slices.Equal(c.Args, tc.args) {
				t.Errorf("%s runs %s %v, want %s %v", tc.name, c.Image, c.Args, tc.image, tc.args)
			}
			if _, ok := c.env(tc.env); !ok {
				t.Errorf("%s has no %s", tc.name, tc.env)
			}
			// The release's ServiceAccount and Secret do not exist yet at pre-install.
			if sa := j.Spec.Template.Spec.ServiceAccountName; sa == fullname {
				t.Errorf("%s uses the chart's ServiceAccount, created only after the hooks", tc.name)
			}
			pod := j.Spec.Template.Spec
			noSecretEnv(t, tc.name, pod)
			for _, e := range c.Env {
				if !known[e.Name] {
					t.Errorf("%s sets %s, which no config struct reads", tc.name, e.Name)
				}
			}
			for _, v := range pod.Volumes {
				if v.Secret != nil && v.Secret.SecretName != hookSecret {
					t.Errorf("%s mounts Secret %s, which does not exist before the hooks", tc.name, v.Secret.SecretName)
				}
			}
			if e, _ := c.env(tc.env); tc.env == "DATABASE_URL_FILE" {
				secretFile(t, tc.name, pod, e.Value, hookSecret, "database-url")
			}
			if !isTrue(c.SecurityContext.ReadOnlyRootFilesystem) {
				t.Errorf("%s root filesystem is writable", tc.name)
			}
		}
		if _, ok := hs.Data["database-url"]; !ok {
			t.Error("the hook Secret has no database-url")
		}
	})
}

func weightOf(t *testing.T, m manifests, kind, name string) int {
	t.Helper()
	var o struct {
		Metadata meta `yaml:"metadata"`
	}
	m.get(t, kind, name, &o)
	var w int
	if _, err := fmt.Sscan(o.Metadata.Annotations["helm.sh/hook-weight"], &w); err != nil {
		t.Fatalf("%s %s hook weight %q: %v", kind, name, o.Metadata.Annotations["helm.sh/hook-weight"], err)
	}
	return w
}

// TestSecretValuesStayInSecrets renders the chart with every secret value
// set and looks for each of them in the output: only a Secret may hold it,
// and only base64-encoded.
func TestSecretValuesStayInSecrets(t *testing.T) {
	secrets := map[string]string{
		"database-url":               "postgres://orderflow:pg-s3cret-x1@db.example:5432/orderflow?sslmode=verify-full",
		"api-keys":                   "storefront orders:write,orders:read 5f2b8c9d0e1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4",
		"codec-keys":                 "k202611 c29tZS10aGlydHktdHdvLWJ5dGUta2V5LWZvci10ZXN0cyE=",
		"temporal-api-key":           "tmprl-api-key-zq8",
		"temporal-config":            "[profile.default]\naddress = \"ns.tmprl.cloud:7233\"\napi_key = \"tmprl-profile-key-zq9\"",
		"nats-password-admin":        "nats-admin-pw-q1",
		"nats-password-api":          "nats-api-pw-q2",
		"nats-password-bridge":       "nats-bridge-pw-q3",
		"nats-password-order-worker": "nats-ow-pw-q4",
		"nats-password-projector":    "nats-proj-pw-q5",
	}
	set := []string{"nats.auth.enabled=true"}
	for k, v := range secrets {
		// --set would split the API keys line at commas.
		set = append(set, fmt.Sprintf("secret.data.%s=%s", k, strings.ReplaceAll(v, ",", `\,`)))
	}
	m := render(t, set...)

	for k, v := range secrets {
		if strings.Contains(m.text, v) {
			t.Errorf("the value of %s appears in plain text in the rendered manifests", k)
		}
	}
	for _, d := range m.all("ConfigMap") {
		var cm configMap
		m.get(t, "ConfigMap", d.Metadata.Name, &cm)
		for ck, cv := range cm.Data {
			for k, v := range secrets {
				enc := base64.StdEncoding.EncodeToString([]byte(v))
				if strings.Contains(cv, v) || strings.Contains(cv, enc) {
					t.Errorf("ConfigMap %s key %s holds the secret %s", d.Metadata.Name, ck, k)
				}
			}
		}
	}
	var s secret
	m.get(t, "Secret", fullname+"-secret", &s)
	for k, v := range secrets {
		got, err := base64.StdEncoding.DecodeString(s.Data[k])
		if err != nil || string(got) != v {
			t.Errorf("Secret key %s = %q, want the value given", k, got)
		}
	}

	// Every feature whose key is present is on, from the mounted files.
	var api deployment
	m.get(t, "Deployment", fullname+"-api", &api)
	var apiCM configMap
	m.get(t, "ConfigMap", fullname+"-api", &apiCM)
	if apiCM.Data["API_KEYS_FILE"] != "/etc/orderflow/secrets/api-keys" || apiCM.Data["TEMPORAL_CODEC_KEYS_FILE"] != "/etc/orderflow/secrets/codec-keys" {
		t.Errorf("api files: API_KEYS_FILE %q TEMPORAL_CODEC_KEYS_FILE %q", apiCM.Data["API_KEYS_FILE"], apiCM.Data["TEMPORAL_CODEC_KEYS_FILE"])
	}
	var bridgeCM configMap
	m.get(t, "ConfigMap", fullname+"-bridge", &bridgeCM)
	if bridgeCM.Data["API_KEYS_FILE"] != "" {
		t.Errorf("bridge gets the API's keys: API_KEYS_FILE %q", bridgeCM.Data["API_KEYS_FILE"])
	}
	var bridge deployment
	m.get(t, "Deployment", fullname+"-bridge", &bridge)
	for v, key := range map[string]string{"TEMPORAL_API_KEY_FILE": "temporal-api-key", "TEMPORAL_CONFIG_FILE": "temporal-config", "TEMPORAL_CODEC_KEYS_FILE": "codec-keys"} {
		secretFile(t, "bridge "+v, bridge.Spec.Template.Spec, bridgeCM.Data[v], fullname+"-secret", key)
	}

	// Each NATS user is its role, with its own password and inbox.
	for _, name := range usesNATS {
		var d deployment
		m.get(t, "Deployment", fullname+"-"+name, &d)
		var cm configMap
		m.get(t, "ConfigMap", fullname+"-"+name, &cm)
		noSecretEnv(t, name, d.Spec.Template.Spec)
		secretFile(t, name, d.Spec.Template.Spec, cm.Data["NATS_PASSWORD_FILE"], fullname+"-secret", "nats-password-"+name)
		if cm.Data["NATS_USER"] != name || cm.Data["NATS_INBOX_PREFIX"] != "_INBOX."+name {
			t.Errorf("%s NATS_USER %q NATS_INBOX_PREFIX %q", name, cm.Data["NATS_USER"], cm.Data["NATS_INBOX_PREFIX"])
		}
	}
	var streams job
	m.get(t, "Job", fullname+"-streams", &streams)
	c := streams.Spec.Template.Spec.Containers[0]
	if e, _ := c.env("NATS_USER"); e.Value != "admin" {
		t.Errorf("streams Job logs in as %q, want admin (the only role allowed to create streams)", e.Value)
	}
	noSecretEnv(t, "streams Job", streams.Spec.Template.Spec)
	e, _ := c.env("NATS_PASSWORD_FILE")
	secretFile(t, "streams Job", streams.Spec.Template.Spec, e.Value, fullname+"-hook-secret", "nats-password-admin")
}

// TestOverrides: replicas per service, an existing Secret, TLS material and
// probe timings all reach the manifests.
func TestOverrides(t *testing.T) {
	m := render(t,
		"replicas=3", "services.projector.replicas=1", "services.shipping-worker.enabled=false",
		"secret.existingSecret=shop-secrets", "secret.existingSecretKeys={api-keys,codec-keys}",
		"probes.readiness.periodSeconds=7",
		"temporal.tls.enabled=true", "temporal.tls.secretName=temporal-mtls", "temporal.tls.clientCert=true",
	)
	want := map[string]int{"api": 3, "bridge": 3, "order-worker": 3, "projector": 1}
	for name, replicas := range want {
		var d deployment
		m.get(t, "Deployment", fullname+"-"+name, &d)
		if d.Spec.Replicas != replicas {
			t.Errorf("%s replicas %d, want %d", name, d.Spec.Replicas, replicas)
		}
		c := d.Spec.Template.Spec.Containers[0]
		if c.ReadinessProbe == nil || c.ReadinessProbe.PeriodSeconds != 7 {
			t.Errorf("%s readiness probe %+v, want period 7", name, c.ReadinessProbe)
		}
		noSecretEnv(t, name, d.Spec.Template.Spec)
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName == fullname+"-secret" {
				t.Errorf("%s mounts the chart's Secret, which is not rendered", name)
			}
		}
		if name != "bridge" {
			var cm configMap
			m.get(t, "ConfigMap", fullname+"-"+name, &cm)
			secretFile(t, name, d.Spec.Template.Spec, cm.Data["DATABASE_URL_FILE"], "shop-secrets", "database-url")
		}
	}
	for _, kind := range []string{"Deployment", "ConfigMap", "PodDisruptionBudget"} {
		var o struct{}
		if m.decode(t, kind, fullname+"-shipping-worker", &o) {
			t.Errorf("%s of the disabled shipping-worker rendered", kind)
		}
	}
	if len(m.all("Secret")) != 0 {
		t.Errorf("Secrets rendered with existingSecret: %v", m.names())
	}
	for _, j := range []string{"-migrate", "-streams"} {
		var d job
		m.get(t, "Job", fullname+j, &d)
		noSecretEnv(t, j, d.Spec.Template.Spec)
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Secret != nil && v.Secret.SecretName != "shop-secrets" {
				t.Errorf("Job %s mounts Secret %s, want the existing one", j, v.Secret.SecretName)
			}
		}
	}

	// The keys listed as present are mounted and named to the services.
	var api deployment
	m.get(t, "Deployment", fullname+"-api", &api)
	var items []string
	for _, v := range api.Spec.Template.Spec.Volumes {
		if v.Name == "secret-files" && v.Secret != nil {
			for _, it := range v.Secret.Items {
				items = append(items, it.Key)
			}
		}
	}
	if !slices.Equal(items, []string{"database-url", "api-keys", "codec-keys"}) {
		t.Errorf("api mounts %v from the Secret, want database-url, api-keys and codec-keys", items)
	}
	var bridge deployment
	m.get(t, "Deployment", fullname+"-bridge", &bridge)
	if !bridge.Spec.Template.Spec.Containers[0].mounted("temporal-tls") {
		t.Error("bridge does not mount the Temporal client certificate")
	}
	var bridgeCM configMap
	m.get(t, "ConfigMap", fullname+"-bridge", &bridgeCM)
	for k, v := range map[string]string{
		"TEMPORAL_TLS":             "true",
		"TEMPORAL_TLS_CA_FILE":     "/etc/orderflow/temporal-tls/ca.crt",
		"TEMPORAL_TLS_CERT_FILE":   "/etc/orderflow/temporal-tls/tls.crt",
		"TEMPORAL_TLS_KEY_FILE":    "/etc/orderflow/temporal-tls/tls.key",
		"TEMPORAL_CODEC_KEYS_FILE": "/etc/orderflow/secrets/codec-keys",
		"TEMPORAL_API_KEY_FILE":    "", // not listed in existingSecretKeys
	} {
		if bridgeCM.Data[k] != v {
			t.Errorf("bridge %s = %q, want %q", k, bridgeCM.Data[k], v)
		}
	}
}

// TestRefusals: settings the chart must not render.
func TestRefusals(t *testing.T) {
	for name, tc := range map[string]struct {
		set  []string
		want string
	}{
		"database url in env":     {[]string{"env.DATABASE_URL=postgres://x"}, "DATABASE_URL is secret"},
		"password in service env": {[]string{"services.bridge.env.NATS_PASSWORD=x"}, "NATS_PASSWORD is secret"},
		"password in streams env": {[]string{"streamsJob.env.NATS_PASSWORD=x"}, "NATS_PASSWORD is secret"},
		"no database url":         {[]string{"secret.data.database-url="}, "database-url is required"},
		// values.schema.json: a misspelt key would otherwise be ignored silently.
		"unknown secret key":    {[]string{"secret.data.databaseUrl=postgres://x"}, "databaseUrl"},
		"unknown service":       {[]string{"services.worker.replicas=1"}, "worker"},
		"replicas not a number": {[]string{"replicas=two"}, "replicas"},
		"nats login without password": {[]string{"nats.auth.enabled=true", "secret.data.nats-password-admin=x", "secret.data.nats-password-api=x",
			"secret.data.nats-password-order-worker=x", "secret.data.nats-password-projector=x"}, "nats-password-bridge is required"},
	} {
		t.Run(name, func(t *testing.T) {
			args := []string{"template", release, chartDir}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := runHelm(t, args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a refusal naming %q", err, tc.want)
			}
		})
	}
}
