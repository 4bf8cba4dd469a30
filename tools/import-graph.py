"""File-level import graph of the collector's sources, read from `use` lines and paths:
names re-exported by a module (`pub use x::Y`) resolve to the file that defines them.
Prints cycles between files and imports from a lower layer to a higher one."""
import os, re, sys
from collections import defaultdict
root = sys.argv[1] if len(sys.argv) > 1 else 'crates/collector/src'
LAYERS = {'router': 6, 'lib': 6, 'main': 6,
          'ingest': 5, 'web': 5, 'api': 5, 'cli': 5, 'scheduler': 5,
          'state': 4, 'request': 4, 'pipeline': 4, 'error': 4,
          'store': 1, 'config': 0, 'metrics': 0, 'outbound': 0, 'address': 0,
          'encode': 0}
def layer(mod): return LAYERS.get(mod.split('::')[0], 2)
files = {}
for dirpath, _, names in os.walk(root):
    for n in names:
        if n.endswith('.rs'):
            p = os.path.join(dirpath, n)
            parts = os.path.relpath(p, root)[:-3].split('/')
            if parts[-1] == 'mod': parts = parts[:-1]
            files['::'.join(parts)] = p
def source(mod):
    src = open(files[mod]).read()
    i = src.find('#[cfg(test)]\nmod tests')
    if i >= 0: src = src[:i]
    return re.sub(r'//[^\n]*', '', src)
def base_of(mod):
    return [] if mod in ('lib', 'main') else mod.split('::')
def is_dir(mod): return files[mod].endswith('mod.rs') or mod in ('lib', 'main')
# re-exports: (module, name) -> defining module path
reexports = {}
def expand_use(mod, text):
    """Paths named by a `use` tree, as absolute module paths (lists)."""
    out = []
    def walk(prefix, t):
        t = t.strip()
        m = re.match(r'^([\w:]*?)(::)?\{(.*)\}$', t, re.S)
        if m:
            pre = prefix + [x for x in m.group(1).split('::') if x]
            depth = 0; cur = ''
            for ch in m.group(3):
                if ch == '{': depth += 1
                if ch == '}': depth -= 1
                if ch == ',' and depth == 0:
                    walk(pre, cur); cur = ''
                else: cur += ch
            if cur.strip(): walk(pre, cur)
            return
        t = t.split(' as ')[0].strip()
        if t: out.append(prefix + t.split('::'))
    walk([], text)
    res = []
    here = base_of(mod); d = is_dir(mod)
    for path in out:
        if path[0] == 'crate': path = path[1:]
        elif path[0] == 'super':
            b = here if d else here[:-1]
            while path and path[0] == 'super':
                path = path[1:]; b = b[:-1] if path and path[0] == 'super' else b
            # one super: parent of file-module; computed above
            path = b + path
        elif path[0] == 'self': path = (here if d else here) + path[1:]
        else:
            # a child module of a directory module, or an external crate
            cand = here + path if d else here[:-1] + path
            if '::'.join(cand[:1+len(here if d else here[:-1])]) in files or any(k.startswith('::'.join(cand[:len(here if d else here[:-1])+1])) for k in files):
                path = cand
            else:
                continue
        res.append(path)
    return res
def resolve(path, seen=None):
    """The file defining what `path` names."""
    seen = seen or set()
    for k in range(len(path), 0, -1):
        m = '::'.join(path[:k])
        if m in files:
            rest = path[k:]
            if rest and (m, rest[0]) in reexports and (m, rest[0]) not in seen:
                seen.add((m, rest[0]))
                return resolve(reexports[(m, rest[0])] + rest[1:], seen)
            return m
    if path == [] : return 'lib'
    if path and ('lib', path[0]) in reexports:
        return resolve(reexports[('lib', path[0])] + path[1:], seen)
    return None
for mod in files:
    for m in re.finditer(r'\bpub(?:\([\w:]+\))? use ([^;]+);', source(mod)):
        for path in expand_use(mod, m.group(1)):
            reexports[(mod, path[-1])] = path
graph = defaultdict(set)
for mod in files:
    src = source(mod)
    for m in re.finditer(r'\buse ([^;]+);', src):
        for path in expand_use(mod, m.group(1)):
            t = resolve(path)
            if t and t != mod: graph[mod].add(t)
    for m in re.finditer(r'(?<![\w:])((?:crate|super)(?:::\w+)+)', src):
        for path in expand_use(mod, m.group(1)):
            t = resolve(path)
            if t and t != mod: graph[mod].add(t)
# Tarjan
sys.setrecursionlimit(10000)
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = counter[0]; counter[0] += 1; stack.append(v); on.add(v)
    for w in graph[v]:
        if w not in index: strong(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v: break
        if len(comp) > 1: sccs.append(comp)
for v in list(files):
    if v not in index: strong(v)
print('files:', len(files), 'import arrows:', sum(len(v) for v in graph.values()))
print('cycles between files:', len(sccs))
for c in sccs: print('  ', ' <-> '.join(sorted(c)))
up = sorted((a, b) for a, bs in graph.items() for b in bs if layer(a) < layer(b))
print('imports from a lower layer to a higher one:', len(up))
for a, b in up: print('  ', a, '->', b)
if '-v' in sys.argv:
    for a in sorted(graph): print(a, '->', ', '.join(sorted(graph[a])))
