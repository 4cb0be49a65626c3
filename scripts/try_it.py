"""Runs the README's "Try your own request" as written: starts `make local`, waits until it is
ready, runs every line of every ```sh block in order (in bash, from the
repository's root), and checks each `# expect: <text>` line against the
output of the command above it. Exits non-zero at the first failure.
CI runs it (.ci/run)."""

import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def steps(text):
    """(command, [expected texts]) in document order."""
    out = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            if line.startswith("# expect: "):
                out[-1][1].append(line[len("# expect: "):])
            elif line.strip() and not line.startswith("#"):
                out.append((line, []))
    return out


def main():
    readme = open(os.path.join(ROOT, "README.md")).read()
    start = readme.index("## Try your own request")
    end = readme.find("\n## ", start + 1)
    todo = steps(readme[start:end if end > 0 else len(readme)])
    if not todo:
        sys.exit("the README's \"Try your own request\" has no ```sh blocks")
    ready = os.path.join(ROOT, "target", "local", "ready")
    for f in (ready, os.path.join(ROOT, "target", "local", "env")):
        if os.path.exists(f):
            os.remove(f)
    log = open(os.path.join(ROOT, "target", "local-stack.log"), "w")
    local = subprocess.Popen(["make", "local"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.time() + 600
        while not os.path.exists(ready):
            if local.poll() is not None or time.time() > deadline:
                sys.exit("make local did not start: see target/local-stack.log")
            time.sleep(1)
        for n, (command, expected) in enumerate(todo, 1):
            run = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True)
            output = run.stdout + run.stderr
            missing = [e for e in expected if e not in output]
            if run.returncode != 0 or missing:
                print(f"step {n} failed: {command}\nexit {run.returncode}; missing {missing}\n{output}")
                sys.exit(1)
            print(f"step {n} ok: {command[:100]}")
        print(f"README, \"Try your own request\": {len(todo)} steps, all as written")
    finally:
        os.killpg(local.pid, signal.SIGINT)
        try:
            local.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(local.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
