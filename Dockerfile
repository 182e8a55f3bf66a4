# Image for the workers, the CLI and the API: TypeScript runs through tsx.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
CMD ["npx", "tsx", "src/workers/main.ts"]
