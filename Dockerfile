# syntax=docker/dockerfile:1

# ---- build: full dependencies, TypeScript → dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json vite.config.ts ./
COPY src ./src
COPY web ./web
# Also copies the routing store's Lua commands (src/**/*.lua) into dist/ beside the JS that reads them.
RUN npm run build

# ---- runtime: production dependencies, compiled code and SQL migrations only ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# dist/ holds the compiled code and the .lua files (dist/routing-store/redis/commands/).
COPY --from=build /app/dist ./dist
# Migrations are applied at start-up from /app/drizzle (dist/db/database.js looks two levels up).
COPY drizzle ./drizzle
# PGlite data and uploaded pet images live under DATA_DIR; the unprivileged `node` user
# (uid 1000, from the base image) must own it. Declared after the chown so a fresh named
# volume inherits that ownership.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 3000
# No curl in the image: node's own fetch probes the liveness endpoint.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node directly (not npm start): signals reach the process, and SIGTERM drains.
CMD ["node", "dist/main.js"]
