import type { Command } from '../cli.ts';

/** `sandbar user create` and `sandbar token issue` (see the identity domain). */
export const identityCommands: Record<string, Command> = {};
