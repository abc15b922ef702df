// Package helm checks the Kubernetes chart in deploy/helm/orderflow: its
// test lints and renders the chart with the helm pinned in
// deploy/helm/tools (HELM_BIN, set by `make test`) and asserts what the
// rendered manifests must hold. The chart itself is not Go code.
package helm
