// Package systemtest runs orderflow as it is deployed: the five service
// images and the infrastructure containers, started with testcontainers-go
// on the host network. Its test is behind the systemtest build tag because
// it needs the images (`make images`); run it with `make systemtest`.
package systemtest
