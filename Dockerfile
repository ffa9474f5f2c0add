# Wharf broker image: Node 20 on Debian, better-sqlite3 built from source at install.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/wharf
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY gateway ./gateway
COPY core ./core
COPY adapters ./adapters
COPY edge-config ./edge-config
ENV WHARF_DATA_DIR=/var/lib/wharf
VOLUME /var/lib/wharf
EXPOSE 1883 8883 8083 8084 5672 8080
CMD ["node", "gateway/bin/wharf.js", "start"]
