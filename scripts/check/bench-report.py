#!/usr/bin/env python3
"""The report of 'make bench' (scripts/check/bench.sh), from the test host logs.

The kernels: core (the series' core), full (the whole series) and, with
--upstream, Debian's upstream 7.x kernel, whose KVM has had SUSP since
6.14: the same benchmark on each, side by side.

Prints the table, and writes into OUT:
  bench.csv    one row per figure: kernel, figure, vcpus, samples, median
               and p90 in microseconds
  profile.csv  the function graph profile: root, callee, calls, median
               per call, the root's median in the same pass, the callee's
               share of the root
  bench.png    suspend and denied against vCPUs (log-log), over their
               floors, for each kernel; the Linux guest's suspend and
               resume by vCPU count (full series)
"""
import argparse
import collections
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys

FIGURE = re.compile(r'bench: figure=(\S+) vcpus=(\d+) samples=(\d+) '
                    r'median_ns=(\d+) p90_ns=(\d+)')
RATIO = re.compile(r'bench: ratio figure=(\S+) floor=(\S+) vcpus=(\d+) '
                   r'rounds=\d+ median=([\d.]+) p10=([\d.]+) p90=([\d.]+)')
SECTION = re.compile(r'^# selftests: kvm: (\S+)')
KEYVALUES = re.compile(r'(\w+)=(-?\d+)')
PROFILE = re.compile(r'bench: profile root=(\S+) function=(\S+) calls=(\d+) '
                     r'median_us=([\d.]+) root_median_us=([\d.]+)')
# The test host's own banner, at the start of a line: the guests' under
# the reference VMM come after it, as TAP comments ("# [ ...] Linux ...")
BANNER = re.compile(r'^(?:\[\s*[\d.]+\] )?Linux version (\S+)')


def lines(path):
    with open(path, errors='replace') as f:
        for line in f:
            yield line.rstrip('\r\n')


def quantiles(values):
    s = sorted(values)
    return s[len(s) // 2], s[len(s) * 9 // 10]


MAIN_RUN = 'sbi_susp_bench'   # tools/tests/bench-kvm.list; the other is run 2


def kernel_version(path):
    """The test host's kernel release from its boot log, or None."""
    for line in lines(path):
        m = BANNER.search(line)
        if m:
            return m.group(1)
    return None


def parse_kvm(path, kernel, boot, rows, ratios):
    """Figures of boot 1's main run into rows; every run's ratios."""
    name = None
    for line in lines(path):
        m = SECTION.search(line)
        if m:
            name = m.group(1)
        m = FIGURE.search(line)
        if m and name == MAIN_RUN and boot == 1:
            figure, vcpus, samples, med, p90 = m.groups()
            rows.append((kernel, figure, int(vcpus), int(samples),
                         int(med) / 1000, int(p90) / 1000))
        m = RATIO.search(line)
        if m:
            figure, floor, vcpus, med, p10, p90 = m.groups()
            ratios[(kernel, boot, name, figure, int(vcpus))] = (
                float(med), float(p10), float(p90))


def parse_linux(path, rows):
    """The bench-vmm and bench-guest lines of each VMM run (bench-linux.list),
    as two lists of (name, vcpus, cycles, figures): the runs woken after
    1 ms, and those that slept for seconds (the host CPU time asleep)."""
    runs = collections.OrderedDict()
    name = None
    for line in lines(path):
        m = SECTION.search(line)
        if m:
            name = m.group(1)
        for tag in ('bench-vmm:', 'bench-guest:'):
            if tag in line and name:
                kv = {k: int(v) for k, v in KEYVALUES.findall(line.split(tag, 1)[1])}
                run = runs.setdefault(name, {'vmm': {}, 'guest': {}})
                run[tag[6:-1]][kv['cycle']] = kv
    latency, sleeps = [], []
    for name, run in runs.items():
        # cycle 1 is the warm-up (tools/tests/bench-linux.list)
        cycles = sorted(set(run['vmm']) & set(run['guest']) - {1})
        if not cycles:
            sys.exit(f'bench-report: {name}: no cycle with both VMM and guest lines')
        vmm0 = run['vmm'][cycles[0]]
        hz, vcpus = vmm0['timebase'], vmm0['vcpus']
        us = lambda ticks: ticks * 1e6 / hz
        fig = collections.defaultdict(list)
        for c in cycles:
            v, g = run['vmm'][c], run['guest'][c]
            fig['echo-to-exit-vmm-clock'].append(v['echo_to_exit_us'])
            fig['echo-to-exit'].append(us(v['exit_ticks'] - g['echo_ticks']))
            fig['run-to-pm-exit'].append(us(g['exit_log_ticks'] - v['run_ticks']))
            fig['run-to-write-return'].append(us(g['done_ticks'] - v['run_ticks']))
            fig['asleep'].append(v['asleep_us'])
            fig['cpu-asleep'].append(v['cpu_asleep_us'])
            fig['marker-uncertainty'].append(us(g['marker_uncertainty_ticks']))
            if g['cpus_down_us'] >= 0 and g['cpus_up_us'] >= 0:
                fig['cpus-down'].append(g['cpus_down_us'])
                fig['cpus-up'].append(g['cpus_up_us'])
        slept_long = statistics.median(fig['asleep']) > 1e6
        (sleeps if slept_long else latency).append((name, vcpus, len(cycles), fig))
        for figure, values in fig.items():
            med, p90 = quantiles(values)
            rows.append(('full', 'linux-' + figure, vcpus, len(values), med, p90))
    return latency, sleeps


def parse_profile(path):
    """Per root: its calls and median, then each callee's (sbi_susp_bench -p)."""
    profiles = collections.OrderedDict()
    for line in lines(path):
        m = PROFILE.search(line)
        if m:
            root, func, calls, med, root_med = m.groups()
            profiles.setdefault(root, []).append((func, int(calls), float(med), float(root_med)))
    return profiles


def machine(log):
    # The QEMU that booted the test host: run-qemu.sh names it in the log
    qemu = 'unknown QEMU'
    with open(log, errors='replace') as f:
        for line in f:
            if line.startswith('run-qemu: QEMU emulator version'):
                qemu = line[len('run-qemu: '):].strip()
                break
    cpu = 'unknown CPU'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    return f'{qemu}; TCG on {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    ap.add_argument('--core', required=True, nargs='+', help='its boots\' logs')
    ap.add_argument('--full', required=True, nargs='+',
                    help='its boots\' logs; the first has the Linux guest runs')
    # optional, so that the report of logs from before it still works
    ap.add_argument('--upstream', nargs='+',
                    help='the upstream kernel\'s boots\' logs')
    ap.add_argument('--trace', required=True)
    ap.add_argument('--machine', default='')
    args = ap.parse_args()

    logs = {'core': args.core, 'full': args.full}
    if args.upstream:
        logs['upstream'] = args.upstream
    kernels = list(logs)
    versions = {k: kernel_version(v[0]) for k, v in logs.items()}
    # upstream is named by its release: it is whatever Debian offered when
    # 'make upstream-kernel' fetched it (scripts/build/upstream-kernel.sh)
    label = {k: f'{k} ({versions[k]})' if k == 'upstream' and versions[k] else k
             for k in kernels}
    kw = max(6, *map(len, kernels))   # the kernel column, as wide as before without upstream
    rows, ratios = [], {}
    for kernel in kernels:
        for boot, log in enumerate(logs[kernel], 1):
            parse_kvm(log, kernel, boot, rows, ratios)
    linux, linux_sleeps = parse_linux(args.full[0], rows)
    profiles = parse_profile(args.trace)
    fig = {(k, f, v): (n, med, p90) for k, f, v, n, med, p90 in rows}

    def get(kernel, figure, vcpus):
        if (kernel, figure, vcpus) not in fig:
            sys.exit(f'bench-report: no {figure} with {vcpus} vCPUs on the {kernel} kernel')
        return fig[(kernel, figure, vcpus)]

    out = []
    p = out.append
    p(f'make bench, {datetime.date.today()}: {machine(args.full[0])}')
    if args.machine:
        p(f'test host: {args.machine}')
    if any(versions.values()):
        p('kernels, as their boot logs name them: ' +
          ', '.join(f'{k} {versions[k] or "(no banner)"}' for k in kernels))
    p('Times are under nested TCG (the KVM host itself runs in QEMU) and mean')
    p('little on their own; compare the ratios, each taken in one run.')
    p('')
    def ratio(kernel, figure, vcpus, run=MAIN_RUN, boot=1):
        if (kernel, boot, run, figure, vcpus) not in ratios:
            sys.exit(f'bench-report: no ratio of {figure} with {vcpus} vCPUs, '
                     f'{run}, boot {boot} of the {kernel} kernel')
        return ratios[(kernel, boot, run, figure, vcpus)]

    p('Round trip against its floor, 1 vCPU: one KVM_RUN each. us, median / p90;')
    p('ratio: median over the rounds of suspend / exit-floor [p10-p90]; each kernel')
    p('booted twice, and run twice in each boot')
    p(f'  {"kernel":{kw}} {"boot":>4} {"run":>3} {"exit-floor":>15} {"suspend":>15}  ratio')
    rt = collections.defaultdict(list)
    for (kernel, boot, run, figure, vcpus), (med, p10, p90) in sorted(
            ratios.items(),
            key=lambda kv: (kernels.index(kv[0][0]), kv[0][1], kv[0][2] != MAIN_RUN)):
        if figure == 'suspend' and vcpus == 1:
            rt[kernel].append(med)
            times = ' ' * 31
            if run == MAIN_RUN and boot == 1:
                _, fmed, fp90 = get(kernel, 'exit-floor', 1)
                _, smed, sp90 = get(kernel, 'suspend', 1)
                times = f'{fmed:7.1f} / {fp90:5.1f} {smed:7.1f} / {sp90:5.1f}'
            p(f'  {kernel:{kw}} {boot:4} {1 if run == MAIN_RUN else 2:3} {times}  '
              f'{med:.3f} [{p10:.3f}-{p90:.3f}]')
    for kernel in kernels:
        if not rt[kernel]:
            sys.exit(f'bench-report: no 1-vCPU suspend ratio on the {kernel} kernel')
    median = {k: statistics.median(rt[k]) for k in kernels}
    spread = {k: (max(v) - min(v)) / statistics.median(v) * 100 for k, v in rt.items()}
    core, full = median['core'], median['full']
    p('  median ratio: ' + ', '.join(f'{label[k]} {median[k]:.3f}' for k in kernels) +
      f'; the hardening\'s cost, full / core - 1: {(full / core - 1) * 100:+.1f} %')
    if 'upstream' in median:
        # the core is upstream's SUSP on 6.12; upstream is that code in a
        # kernel that differs from 6.12 everywhere else, so the difference
        # is the two kernels' round trips, not the backport's SUSP alone
        p(f'  the core against upstream, core / upstream - 1: '
          f'{(core / median["upstream"] - 1) * 100:+.1f} % (6.12 against '
          f'{versions["upstream"] or "7.x"}: whole kernels, not only their SUSP)')
    spans = [f'{spread[k]:.1f} % ({k})' for k in kernels]
    p(f'  noise: one kernel\'s ratios span {", ".join(spans[:-1])} and {spans[-1]} '
      f'of their median')
    p('')
    # each kernel's own counts: KVM_CAP_MAX_VCPUS, the last, is the kernel's
    counts = {k: sorted({v for kk, b, r, f, v in ratios
                         if kk == k and b == 1 and r == MAIN_RUN and f == 'suspend'})
              for k in kernels}
    p('Scaling, every other vCPU stopped (for denied, but the last one), each kernel\'s')
    p('first boot. us, median / p90; x: ratio to the floor taken alongside, median')
    p('over the rounds')
    p(f'  {"kernel":{kw}} {"vCPUs":>5} {"suspend":>15} {"x exit-floor":>12} {"denied":>15} '
      f'{"x ecall-floor":>13}')
    for kernel in kernels:
        for v in counts[kernel]:
            _, smed, sp90 = get(kernel, 'suspend', v)
            line = (f'  {kernel:{kw}} {v:5} {smed:7.1f} / {sp90:5.1f} '
                    f'{ratio(kernel, "suspend", v)[0]:12.2f}')
            if (kernel, 1, MAIN_RUN, 'denied', v) in ratios:
                _, dmed, dp90 = get(kernel, 'denied', v)
                line += f' {dmed:7.1f} / {dp90:5.1f} {ratio(kernel, "denied", v)[0]:13.2f}'
            p(line)
    for kernel in kernels:
        for figure, floor in (('suspend', 'exit-floor'), ('denied', 'ecall-floor')):
            vs = [v for v in counts[kernel] if (kernel, 1, MAIN_RUN, figure, v) in ratios]
            if len(vs) < 2:
                continue
            r = {v: ratio(kernel, figure, v)[0] for v in vs}
            floor_us = get(kernel, floor, vs[0])[1]
            slopes = [(r[b] - r[a]) / (b - a) * floor_us * 1000 for a, b in zip(vs, vs[1:])]
            p(f'  {label[kernel]}: {figure} at {vs[-1]} vCPUs / at {vs[0]}: '
              f'{r[vs[-1]] / r[vs[0]]:.2f}x; each added vCPU, in ns of this run\'s {floor} '
              f'({floor_us:.1f} us): ' +
              ', '.join(f'{a}-{b}: {sl:.0f}' for (a, b), sl in zip(zip(vs, vs[1:]), slopes)))
    p('')
    p('A Linux guest under tools/vmm, full series, ms, median / p90 over the cycles')
    p('  echo->exit: from the write of "mem" to the SUSP exit, VMM clock (from the')
    p('  guest\'s console line before the write) and guest ticks; CPUs down: of')
    p('  that, offlining the other CPUs. KVM_RUN->: from the resuming KVM_RUN to')
    p('  "PM: suspend exit" and to the write\'s return; CPUs up: onlining them')
    heads = ('echo->exit VMM', 'echo->exit', 'CPUs down', 'KVM_RUN->PM exit',
             'CPUs up', 'KVM_RUN->write')
    p(f'  {"vCPUs":>5} {"cycles":>6} ' + ' '.join(f'{h:>15}' for h in heads))
    for name, vcpus, ncycles, f in linux:
        cells = []
        for key in ('echo-to-exit-vmm-clock', 'echo-to-exit', 'cpus-down', 'run-to-pm-exit',
                    'cpus-up', 'run-to-write-return'):
            if f.get(key):
                med, p90 = quantiles(f[key])
                cells.append(f'{med / 1000:6.1f} / {p90 / 1000:6.1f}')
            else:
                cells.append('-')
        p(f'  {vcpus:5} {ncycles:6} ' + ' '.join(f'{c:>15}' for c in cells))
    for name, vcpus, ncycles, f in linux_sleeps:
        asleep, cpu = sum(f['asleep']), sum(f['cpu-asleep'])
        p(f'  host CPU of the VMM process while the guest ({vcpus} vCPUs) slept '
          f'{asleep / 1e6:.1f} s: {cpu / 1000:.1f} ms, {cpu / asleep * 100:.3f} % of one core')
    p('')
    prof_rows = []
    for root, entries in profiles.items():
        _, suspends, root_alone, _ = entries[0]
        p(f'Profile of {root} over {suspends} suspends, function graph tracer')
        p(f'  {root} traced alone: {root_alone:.1f} us per call (median). Each callee was')
        p(f'  traced in a pass of its own with {root} only: its share is its median')
        p(f'  times its calls per suspend, over {root}\'s median in that pass. Each')
        p(f'  traced call carries the tracer\'s own cost, about the fastest callee\'s.')
        p(f'  {"callee":36} {"calls":>6} {"median us":>9} {"share":>7} {"~us":>6}')
        shares = []
        for func, calls, med, root_med in entries[1:]:
            share = med * calls / suspends / root_med if root_med else 0.0
            shares.append((share, func, calls, med))
            prof_rows.append((root, func, calls, med, root_med, share * 100))
        for share, func, calls, med in sorted(shares, reverse=True):
            if calls:
                p(f'  {func:36} {calls:6} {med:9.1f} {share * 100:6.1f}% {share * root_alone:6.1f}')
        p('')

    text = '\n'.join(out)
    print(text)
    with open(os.path.join(args.out, 'bench.txt'), 'w') as f:
        f.write(text + '\n')
    with open(os.path.join(args.out, 'bench.csv'), 'w') as f:
        f.write('kernel,figure,vcpus,samples,median_us,p90_us\n')
        for r in rows:
            f.write('%s,%s,%d,%d,%.1f,%.1f\n' % r)
    with open(os.path.join(args.out, 'profile.csv'), 'w') as f:
        f.write('root,function,calls,median_us,root_median_us,share_percent\n')
        for r in prof_rows:
            f.write('%s,%s,%d,%.1f,%.1f,%.1f\n' % r)
    nan = (float('nan'),)
    plot(args.out, [label[k] for k in kernels],
         {v: [ratios.get((k, 1, MAIN_RUN, figure, v), nan)[0]
              for k in kernels for figure in ('suspend', 'denied')]
          for v in set().union(*counts.values())}, linux)


def plot(out, labels, scaling, linux):
    """scaling: per vCPU count, each kernel's suspend and denied ratios, in
    the order of labels; nan where a kernel has no such figure."""
    dat = os.path.join(out, 'scaling.dat')
    with open(dat, 'w') as f:
        f.write('# vcpus, then for each kernel (' + ', '.join(labels) +
                '): suspend/exit-floor denied/ecall-floor (median ratios)\n')
        for v, figures in sorted(scaling.items()):
            f.write(f'{v} ' + ' '.join(str(x) for x in figures) + '\n')
    ldat = os.path.join(out, 'linux.dat')
    with open(ldat, 'w') as f:
        f.write('# vcpus echo-to-exit run-to-pm-exit (median ms)\n')
        for name, vcpus, ncycles, fg in linux:
            f.write(f'{vcpus} {statistics.median(fg["echo-to-exit"]) / 1000} '
                    f'{statistics.median(fg["run-to-pm-exit"]) / 1000}\n')
    # a colour per kernel; suspend solid, denied dashed
    curves = ', \\\n     '.join(
        f'"{dat}" using 1:{2 + 2 * i} with linespoints lc {i + 1} pt 7 dt 1 '
        f'title "{name}: suspend round trip / forwarded SBI call", \\\n     '
        f'"{dat}" using 1:{3 + 2 * i} with linespoints lc {i + 1} pt 5 dt 2 '
        f'title "{name}: DENIED call / in-kernel SBI call"'
        for i, name in enumerate(labels))
    script = f'''
set terminal pngcairo size 1200,500 font ",10"
set output "{os.path.join(out, 'bench.png')}"
set multiplot layout 1,2
set title "SBI system suspend under KVM: cost against its floor"
set logscale xy
set xrange [1:2048]
set xlabel "vCPUs (all others stopped)"
set ylabel "times the floor (median over 100 rounds)"
set key top left
set grid
plot {curves}
unset logscale
set logscale x 2
set xrange [1:8]
set xlabel "guest vCPUs"
set title "Linux guest under tools/vmm, full series (median)"
set ylabel "ms (nested TCG)"
set yrange [0:*]
plot "{ldat}" using 1:2 with linespoints title "echo mem -> SUSP exit", \\
     "{ldat}" using 1:3 with linespoints title "KVM\\\\_RUN -> PM: suspend exit"
unset multiplot
'''
    subprocess.run(['gnuplot'], input=script, text=True, check=True)
    print(f'bench: wrote bench.txt, bench.csv, profile.csv and bench.png in {out}')


if __name__ == '__main__':
    main()
