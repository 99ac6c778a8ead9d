# The image docs/kubernetes-sweep.yaml runs: a static acksim binary on a
# small base that has a shell (the Job runs its command through /bin/sh).
#   docker build -t registry.example.com/acksim:latest .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/acksim ./cmd/acksim

FROM busybox:1.37
COPY --from=build /out/acksim /usr/local/bin/acksim
WORKDIR /work
CMD ["acksim", "version"]
