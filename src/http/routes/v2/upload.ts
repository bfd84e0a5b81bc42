/** Pet image uploads: multipart parsing, content sniffing and storage under `ctx.mediaDir`. */
import { randomBytes } from "node:crypto";
import { unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import type { RequestHandler } from "express";
import { fileTypeFromBuffer } from "file-type";
import multer from "multer";
import { unprocessable } from "../../../lib/app-error.js";

/** Largest accepted image (PROTOCOL §2); larger → 413. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;

/** Accepted image types, by content, and the extension they are stored with. */
const ALLOWED = new Map([
  ["image/png", "png"],
  ["image/jpeg", "jpg"],
  ["image/webp", "webp"],
]);

/**
 * Parses `multipart/form-data` into `req.body` (`pet[name]` → `body.pet.name`) and the
 * single file `profile` into `req.file`, kept in memory. Other content types pass through.
 * Multer's errors reach the error handler: too large → 413, any other → 422.
 */
export function profileUpload(): RequestHandler {
  return multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 50, fieldSize: 64 * 1024, parts: 60 },
  }).single("profile");
}

/** A checked image ready to be written. */
export interface CheckedImage {
  buffer: Buffer;
  ext: string;
}

/** Accepts PNG, JPEG or WebP by their magic bytes, whatever the name or declared type; else 422. */
export async function checkImage(file: { buffer: Buffer }): Promise<CheckedImage> {
  const type = file.buffer.length > 0 ? await fileTypeFromBuffer(file.buffer) : undefined;
  const ext = type ? ALLOWED.get(type.mime) : undefined;
  if (!ext) throw unprocessable("The profile must be an image of type: png, jpeg, webp.");
  return { buffer: file.buffer, ext };
}

/** Writes the image under `mediaDir` with a random name; returns the file name. */
export async function storeImage(mediaDir: string, image: CheckedImage): Promise<string> {
  const name = `${randomBytes(16).toString("hex")}.${image.ext}`;
  await writeFile(path.join(mediaDir, name), image.buffer, { flag: "wx" });
  return name;
}

/** Removes a stored image again (when the database update that should reference it failed). */
export async function discardImage(mediaDir: string, name: string): Promise<void> {
  await unlink(path.join(mediaDir, name)).catch(() => undefined);
}

/**
 * The stored file behind a pet's `profile` URL, or null when the URL does not end in one of
 * our random names (such a URL was never ours to delete).
 */
export function storedImageName(profile: string | null): string | null {
  const m = profile ? /\/([0-9a-f]{32}\.(?:png|jpg|webp))$/.exec(profile) : null;
  return m?.[1] ?? null;
}
