# wasql as a container: `docker build -t wasql .`, then see docker-compose.yml (PostgreSQL 15 and
# two wasql proxies in front of it). Multi-stage: the Go build (cgo, for PostgreSQL's parser) in
# the first stage, only the binary in the second, run by a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w" -o /out/wasql ./cmd/wasql

FROM debian:bookworm-slim
# CA certificates: an upstream URL with sslmode=verify-full checks the server against them.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
# The data directory exists in the image, owned by wasql: a named volume mounted there (as
# docker-compose.yml does) starts with its owner; a missing one would be created root's.
RUN useradd --system --uid 10001 --home-dir /var/lib/wasql --create-home wasql \
  && install -d -o wasql -g wasql /var/lib/wasql/data
COPY --from=build /out/wasql /usr/local/bin/wasql
USER wasql
WORKDIR /var/lib/wasql
ENV WASQL_DATA_DIR=/var/lib/wasql/data
EXPOSE 5433
# Healthy when the Postgres wire accepts connections (bash's /dev/tcp: no client in the image).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5433"]
ENTRYPOINT ["wasql"]
CMD ["serve"]
