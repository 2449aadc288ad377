/**
 * The layering rules are ESLint's no-restricted-imports (eslint.config.js), run by `npm run lint`.
 * These cases prove the rules fire where they must and stay quiet where imports are allowed, so
 * a config edit cannot switch them off unnoticed.
 */
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '@parley/runtime/testing';

const eslint = new ESLint({ cwd: repoRoot });

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering lint', () => {
  it("refuses a service's domain importing its adapters or transport", async () => {
    const file = 'services/chat/src/domain/example.ts';
    expect(
      await restrictedImports(file, "import { SqliteChatStore } from '../adapters/sqlite.ts';\n"),
    ).toHaveLength(1);
    expect(
      await restrictedImports(file, "import { serveChatRpc } from '../transport/nats.ts';\n"),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        file,
        "import type { ChatStore } from './store.ts';\nimport { AppError } from '@parley/contracts/errors';\n",
      ),
    ).toEqual([]);
  });

  it('lets the apps import only contracts and the chat client from the backend side', async () => {
    const file = 'frontends/widget/src/lib/example.ts';
    expect(
      await restrictedImports(file, "import { connectBus } from '@parley/runtime';\n"),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        file,
        "import { ChatDomain } from '../../../../services/chat/src/domain/chats.ts';\n",
      ),
    ).toHaveLength(1);
    expect(
      await restrictedImports(
        file,
        "import { ws } from '@parley/contracts';\nimport { http } from '@parley/contracts/http';\nimport { createEngine } from '@parley/chat-client';\n",
      ),
    ).toEqual([]);
  });
});
