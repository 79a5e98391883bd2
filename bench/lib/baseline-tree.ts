import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = fileURLToPath(new URL('../..', import.meta.url));
const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: projectDir, encoding: 'utf8' }).trim();

/**
 * The sources as they were just before the first commit whose subject starts with
 * `subject`, checked out once (a detached git worktree under os.tmpdir(), sharing this
 * tree's node_modules), so a scenario can run the code before and after a change in the
 * same process and the same run: the before is the baseline. Returns the checkout's path.
 */
export const treeBefore = (subject: string): string => {
  const commits = git('log', '--format=%H %s', 'HEAD')
    .split('\n')
    .filter((line) => line.slice(41).startsWith(subject));
  const first = commits.at(-1)?.slice(0, 40);
  if (!first) throw new Error(`no commit on HEAD starts with "${subject}"`);
  const before = git('rev-parse', `${first}^`);
  const dir = join(tmpdir(), `procreg-baseline-${before.slice(0, 12)}`);
  if (!existsSync(join(dir, 'src'))) {
    git('worktree', 'prune');
    git('worktree', 'add', '--detach', '--force', dir, before);
    symlinkSync(join(projectDir, 'node_modules'), join(dir, 'node_modules'));
  }
  return dir;
};

/**
 * A copy of this tree's sources (src/, package.json, tsconfig.json: the code as it is now,
 * committed or not) with `patch` (a file beside this one) applied, under os.tmpdir(),
 * sharing this tree's node_modules: the same code without one feature, for a same-run
 * baseline of what that feature costs. A patch that no longer applies throws (update it
 * with the code it patches). Returns the copy's path and a function that removes it.
 */
export const sourcesPatched = (patch: string): { dir: string; remove: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), 'procreg-patched-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    for (const entry of ['src', 'package.json', 'tsconfig.json'])
      cpSync(join(projectDir, entry), join(dir, entry), { recursive: true });
    symlinkSync(join(projectDir, 'node_modules'), join(dir, 'node_modules'));
    execFileSync('git', ['apply', fileURLToPath(new URL(patch, import.meta.url))], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    remove();
    throw new Error(`bench/lib/${patch} does not apply to the sources: ${String(error)}`);
  }
  return { dir, remove };
};
