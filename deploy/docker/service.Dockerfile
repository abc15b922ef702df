# One orderflow program (a service, or migrate) on an empty base: a static
# CGO_ENABLED=0 binary built on the host by `make images`, run as a numeric
# non-root user. The build context is a staging folder holding only the
# binary, named `app`.
FROM scratch
ARG NAME
ARG VERSION=dev
ARG REVISION=unknown
COPY app /app
USER 65532:65532
LABEL org.opencontainers.image.title="orderflow-${NAME}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/orderflow/orderflow" \
      org.opencontainers.image.description="orderflow ${NAME}: static Go binary on scratch; --version prints the stamped version"
ENTRYPOINT ["/app"]
