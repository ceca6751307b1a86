/**
 * Vite's configuration of the web client. `atelier serve` builds with it (src/http/web-client-build.ts,
 * which passes it to Vite's build() itself); `npx vite web-client` serves the sources with hot reload
 * on :5173, sending the API's paths on to an `npm start` on :4000.
 */
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const API = "http://127.0.0.1:4000";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", assetsDir: "assets" },
  server: {
    proxy: {
      "/graphql": { target: API, ws: true },
      "/images": API,
    },
  },
});
