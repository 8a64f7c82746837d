# Production image for both processes: `node dist/src/main.js api` (HTTP API) and `node dist/src/worker.js`
# (Temporal worker). The workflow bundle is prebuilt, so workers start without webpack.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Fixes to dependencies, applied by npm ci (postinstall): see patches/README.md.
COPY patches patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src src
COPY migrations migrations
COPY scripts/bundle-workflows.ts scripts/
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# Two malloc arenas: the Temporal core's threads would otherwise each grow their own (docs/PERFORMANCE.md).
ENV NODE_ENV=production HOST=0.0.0.0 DATA_DIR=/data MALLOC_ARENA_MAX=2
WORKDIR /app
RUN mkdir -p /data/keys && chown -R node:node /data
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
# The pages' browser code is bundled by esbuild when the service starts (src/web/assets.ts), from source.
COPY --from=build /app/src/web/client src/web/client
COPY --from=build /app/src/i18n src/i18n
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s CMD node -e "fetch('http://127.0.0.1:3000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main.js", "api"]
