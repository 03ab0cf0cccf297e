import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { createPublicKey, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8 } from 'jose';
import type { Config } from '../config/config.ts';

export const JWT_ALGORITHM = 'ES256';

/** The service's one signing key pair. Every replica must share it (SANDBAR_JWT_PRIVATE_KEY). */
export interface SigningKey {
  privateKey: Awaited<ReturnType<typeof importPKCS8>>;
  publicKey: KeyObject;
  /** RFC 7638 thumbprint of the public key; tokens carry it as `kid`. */
  kid: string;
}

export class KeyError extends Error {}

/**
 * SANDBAR_JWT_PRIVATE_KEY (PKCS#8 PEM of a P-256 key) if set; otherwise the key
 * in `<data dir>/jwt-es256.pem`, created on first start with mode 0600.
 */
export async function loadSigningKey(config: Config): Promise<SigningKey> {
  if (config.SANDBAR_JWT_PRIVATE_KEY) {
    // Environment files often carry a PEM on one line with literal \n.
    const pem = config.SANDBAR_JWT_PRIVATE_KEY.replace(/\\n/g, '\n');
    try {
      return await fromPem(pem);
    } catch {
      throw new KeyError('Invalid configuration: SANDBAR_JWT_PRIVATE_KEY must be a PKCS#8 PEM EC P-256 private key');
    }
  }
  const file = path.join(config.dataDir, 'jwt-es256.pem');
  let pem = await readFile(file, 'utf8').catch(() => undefined);
  if (pem === undefined) {
    const { privateKey } = await generateKeyPair(JWT_ALGORITHM, { extractable: true });
    const fresh = await exportPKCS8(privateKey);
    await mkdir(config.dataDir, { recursive: true });
    try {
      // 'wx': when two processes start at once, one creates the key and both use it.
      await writeFile(file, fresh, { mode: 0o600, flag: 'wx' });
      pem = fresh;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      pem = await readFile(file, 'utf8');
    }
  }
  return fromPem(pem);
}

async function fromPem(pem: string): Promise<SigningKey> {
  const privateKey = await importPKCS8(pem, JWT_ALGORITHM, { extractable: true });
  const publicKey = createPublicKey(pem);
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { privateKey, publicKey, kid };
}
