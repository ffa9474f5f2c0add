# Wharf broker image: Node 20 on Debian bookworm. better-sqlite3 is compiled in a build stage (python3,
# make, g++) against the image's own Node headers; the runtime stage has node_modules and the sources only.
FROM node:20.20.2-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# node-gyp takes Node's headers from the image (/usr/local/include/node) instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /opt/wharf
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# The same base image, so the compiled addon matches the Node that runs it.
FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/wharf
COPY --from=deps /opt/wharf/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY gateway ./gateway
COPY core ./core
COPY adapters ./adapters
COPY edge-config ./edge-config
# A new named volume takes this directory's owner, so the unprivileged `node` user (uid 1000) can write it.
RUN mkdir -p /data && chown node:node /data
ENV WHARF_DATA_DIR=/data
VOLUME /data
USER node
# MQTT, MQTT/TLS, MQTT/WebSocket, MQTT/secure WebSocket, AMQP, admin HTTP (TLS ports serve only with certificates).
EXPOSE 1883 8883 8083 8084 5672 8080
CMD ["node", "gateway/bin/wharf.js", "start"]
