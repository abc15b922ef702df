# nats-server built statically from the Go module the project pins (shared's
# go.mod), for machines that cannot pull the official image. Same entrypoint
# as the official image (/nats-server), so either works with our flags.
FROM scratch
ARG VERSION
COPY --chown=65532:65532 rootfs/ /
COPY app /nats-server
USER 65532:65532
EXPOSE 4222 8222
LABEL org.opencontainers.image.title="nats-server" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="nats-server ${VERSION}, static, built from the Go module"
ENTRYPOINT ["/nats-server"]
CMD ["-js", "-sd", "/data", "-m", "8222"]
