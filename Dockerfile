# Wharf broker image: Node 20 on Debian bookworm. The build stage compiles better-sqlite3 (python3, make,
# g++) against the image's own Node headers and the TypeScript sources into dist/ (npm ci runs the prepare
# script), then drops the dev dependencies; the runtime stage has node_modules, dist/ and the files the
# compiled code reads (package.json, the live page), no compiler and no TypeScript sources.
FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# node-gyp takes Node's headers from the image (/usr/local/include/node) instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /opt/wharf
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY gateway ./gateway
COPY core ./core
COPY adapters ./adapters
COPY edge-config ./edge-config
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

# The same base image, so the compiled addon matches the Node that runs it.
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/wharf
COPY --from=build /opt/wharf/node_modules ./node_modules
COPY --from=build /opt/wharf/dist ./dist
COPY package.json package-lock.json ./
COPY gateway/bin ./gateway/bin
COPY gateway/live-page ./gateway/live-page
# A new named volume takes this directory's owner, so the unprivileged `node` user (uid 1000) can write it.
RUN mkdir -p /data && chown node:node /data
ENV WHARF_DATA_DIR=/data
VOLUME /data
USER node
# MQTT, MQTT/TLS, MQTT/WebSocket, MQTT/secure WebSocket, AMQP, admin HTTP (TLS ports serve only with certificates).
EXPOSE 1883 8883 8083 8084 5672 5671 8080 8443
# Healthy once /readyz answers 200 (the store is open and every listener is up). No curl in slim images:
# node's own fetch, on the admin port Wharf was given (WHARF_ADMIN_PORT) or its default.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WHARF_ADMIN_PORT||8080)+'/readyz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "gateway/bin/wharf.js", "start"]
