/* Real PNG files made on the spot, so the tests need no binary fixtures. */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/*
 * A width × height RGB gradient whose colours depend on seed. noise adds
 * random pixels, which do not compress, to make a large file.
 */
export function makePng(width, height, seed = 0, noise = false) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let at = 0;
  for (let y = 0; y < height; y++) {
    raw[at++] = 0; /* no filter */
    for (let x = 0; x < width; x++) {
      if (noise) {
        raw[at++] = Math.random() * 256;
        raw[at++] = Math.random() * 256;
        raw[at++] = Math.random() * 256;
      } else {
        raw[at++] = (x * 255 / width + seed * 40) & 255;
        raw[at++] = (y * 255 / height + seed * 90) & 255;
        raw[at++] = (seed * 70 + 128) & 255;
      }
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; /* bits per channel */
  header[9] = 2; /* RGB */
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
