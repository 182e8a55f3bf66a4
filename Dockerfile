# Image for the workers, the API, the CLI, the migrations and the simulators:
# compiled JavaScript run by plain node (no tsx, no TypeScript compiler, no dev
# dependencies at run time). Node 24 is the LTS the suite runs on.

# Build: dev dependencies (TypeScript) and `npm run build` (src/ -> dist/).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and what the compiled code reads beside itself.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Competitor audio: yt-dlp (audio only, -x) and ffmpeg/ffprobe (duration, chunks). Debian's yt-dlp is
# old and YouTube changes often: production points YT_DLP_PATH at a current release (docs/operations.md).
# Reels: ffmpeg cuts them (libass subtitles in DejaVu Sans, the default REELFLOW_REEL_FONT).
RUN apt-get update && apt-get install -y --no-install-recommends yt-dlp ffmpeg fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# The static ffprobe (src/config/ffprobe.ts; a quarter of Debian's CPU a probe): its install script lets only its
# owner (root) run it, and the workers run as node. Without it (another CPU) the workers use Debian's, installed above.
RUN f=node_modules/@ffprobe-installer/linux-x64/ffprobe; if [ -f "$f" ]; then chmod a+rx "$f"; fi
COPY --from=build /app/dist ./dist
# dist/db/migrate.js applies ../../drizzle; the CLI's `roster load` and `ingest` default to data/sample.
COPY drizzle ./drizzle
COPY data ./data
# Our logo on every reel (REELFLOW_LOGO_PATH).
COPY assets ./assets
# Nothing here is writable by the process but .data (simulator state, downloaded competitor audio, reels):
# a compromised worker cannot rewrite the code it runs.
RUN mkdir -p /app/.data/simulators /app/.data/audio /app/.data/media && chown -R node:node /app/.data
USER node
CMD ["node", "dist/workers/main.js"]
