import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
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
