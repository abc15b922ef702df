# The Temporal CLI pinned in deploy/tools (dev server with the Web UI),
# static, for machines that cannot pull temporalio/temporal. Flags come from
# the caller: testenv and deploy/compose use temporalx.DevServer's set.
FROM scratch
ARG VERSION
COPY --chown=65532:65532 rootfs/ /
COPY app /temporal
USER 65532:65532
# The CLI reads TEMPORAL_ADDRESS for --address: set it to the frontend port
# the server was started with, and the health check follows.
# USER: a static build looks the user up in $USER (no /etc/passwd here).
ENV TEMPORAL_ADDRESS=127.0.0.1:7233 HOME=/data USER=temporal
EXPOSE 7233 8233
HEALTHCHECK --interval=10s --timeout=5s --retries=6 CMD ["/temporal", "operator", "cluster", "health"]
LABEL org.opencontainers.image.title="temporal" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.description="Temporal CLI ${VERSION} (dev server and Web UI), static"
ENTRYPOINT ["/temporal"]
CMD ["server", "start-dev", "--ip", "0.0.0.0", "--db-filename", "/data/temporal.db"]
