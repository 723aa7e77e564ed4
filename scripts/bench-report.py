#!/usr/bin/env python3
"""The report of 'make bench' (scripts/bench.sh), from the test host logs.

Prints the table, and writes into OUT:
  bench.csv    one row per figure: kernel, figure, vcpus, samples, median
               and p90 in microseconds
  profile.csv  the function graph profile: root, callee, calls, median
               per call, net of the tracer's cost, net per suspend
  bench.png    suspend and denied against vCPUs (log-log), with floors;
               the Linux guest's suspend and resume by vCPU count
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
                   r'rounds=\d+ min=([\d.]+) max=([\d.]+)')
SECTION = re.compile(r'^# selftests: kvm: (\S+)')
KEYVALUES = re.compile(r'(\w+)=(-?\d+)')
PROFILE = re.compile(r'bench: profile root=(\S+) function=(\S+) calls=(\d+) '
                     r'median_us=([\d.]+)')


def lines(path):
    with open(path, errors='replace') as f:
        for line in f:
            yield line.rstrip('\r\n')


def quantiles(values):
    s = sorted(values)
    return s[len(s) // 2], s[len(s) * 9 // 10]


def parse_kvm(path, kernel, rows, ratios):
    for line in lines(path):
        m = FIGURE.search(line)
        if m:
            figure, vcpus, samples, med, p90 = m.groups()
            rows.append((kernel, figure, int(vcpus), int(samples),
                         int(med) / 1000, int(p90) / 1000))
        m = RATIO.search(line)
        if m:
            figure, floor, vcpus, lo, hi = m.groups()
            ratios[(kernel, figure, int(vcpus))] = (float(lo), float(hi))


def parse_linux(path, rows):
    """The bench-vmm and bench-guest lines of each VMM run (bench-linux.list)."""
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
    result = []
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
        result.append((name, vcpus, len(cycles), fig))
        for figure, values in fig.items():
            med, p90 = quantiles(values)
            rows.append(('full', 'linux-' + figure, vcpus, len(values), med, p90))
    return result


def parse_profile(path):
    """Per root: its calls and median, then each callee's (sbi_susp_bench -p)."""
    profiles = collections.OrderedDict()
    for line in lines(path):
        m = PROFILE.search(line)
        if m:
            root, func, calls, med = m.groups()
            profiles.setdefault(root, []).append((func, int(calls), float(med)))
    return profiles


def machine():
    qemu = subprocess.run(['qemu-system-riscv64', '--version'], capture_output=True,
                          text=True).stdout.splitlines()[0]
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
    ap.add_argument('--core', required=True)
    ap.add_argument('--full', required=True)
    ap.add_argument('--trace', required=True)
    ap.add_argument('--machine', default='')
    args = ap.parse_args()

    rows, ratios = [], {}
    parse_kvm(args.core, 'core', rows, ratios)
    parse_kvm(args.full, 'full', rows, ratios)
    linux = parse_linux(args.full, rows)
    profiles = parse_profile(args.trace)
    fig = {(k, f, v): (n, med, p90) for k, f, v, n, med, p90 in rows}

    def get(kernel, figure, vcpus):
        if (kernel, figure, vcpus) not in fig:
            sys.exit(f'bench-report: no {figure} with {vcpus} vCPUs on the {kernel} kernel')
        return fig[(kernel, figure, vcpus)]

    out = []
    p = out.append
    p(f'make bench, {datetime.date.today()}: {machine()}')
    if args.machine:
        p(f'test host: {args.machine}')
    p('Times are under nested TCG (the KVM host itself runs in QEMU) and mean')
    p('little on their own; compare the ratios, each taken in one run.')
    p('')
    p('Round trip against its floor, 1 vCPU: one KVM_RUN each, us, median / p90')
    p(f'  {"kernel":8} {"exit-floor":>15} {"suspend":>15} {"ratio":>7}  ratio by round')
    ratio = {}
    for kernel in ('core', 'full'):
        _, fmed, fp90 = get(kernel, 'exit-floor', 1)
        n, smed, sp90 = get(kernel, 'suspend', 1)
        ratio[kernel] = smed / fmed
        lo, hi = ratios.get((kernel, 'suspend', 1), (0, 0))
        p(f'  {kernel:8} {fmed:7.1f} / {fp90:5.1f} {smed:7.1f} / {sp90:5.1f} '
          f'{ratio[kernel]:7.3f}  {lo:.3f}-{hi:.3f} ({n} samples)')
    p(f'  the hardening\'s cost: full ratio / core ratio - 1 = '
      f'{(ratio["full"] / ratio["core"] - 1) * 100:+.1f} %')
    p('')
    counts = sorted({v for k, f, v in fig if k == 'full' and f == 'suspend'})
    p('Scaling, full series, all other vCPUs stopped (denied: but the last): us, median / p90')
    p(f'  {"vCPUs":>5} {"suspend":>15} {"/exit-floor":>11} {"denied":>15} {"/ecall-floor":>12}')
    for v in counts:
        _, smed, sp90 = get('full', 'suspend', v)
        _, fmed, _ = get('full', 'exit-floor', v)
        line = f'  {v:5} {smed:7.1f} / {sp90:5.1f} {smed / fmed:11.2f}'
        if ('full', 'denied', v) in fig:
            _, dmed, dp90 = get('full', 'denied', v)
            _, emed, _ = get('full', 'ecall-floor', v)
            line += f' {dmed:7.1f} / {dp90:5.1f} {dmed / emed:12.2f}'
        p(line)
    lo_v, hi_v = counts[0], counts[-1]
    s_lo, s_hi = get('full', 'suspend', lo_v)[1], get('full', 'suspend', hi_v)[1]
    p(f'  suspend at {hi_v} vCPUs / at {lo_v}: {s_hi / s_lo:.2f}x, '
      f'{(s_hi - s_lo) * 1000 / (hi_v - lo_v):.0f} ns per added vCPU')
    d_counts = [v for v in counts if ('full', 'denied', v) in fig]
    if len(d_counts) > 1:
        d_lo, d_hi = get('full', 'denied', d_counts[0])[1], get('full', 'denied', d_counts[-1])[1]
        p(f'  denied at {d_counts[-1]} vCPUs / at {d_counts[0]}: {d_hi / d_lo:.2f}x, '
          f'{(d_hi - d_lo) * 1000 / (d_counts[-1] - d_counts[0]):.0f} ns per added vCPU')
    p('')
    p('A Linux guest under tools/vmm, ms, median / p90 over the cycles')
    p(f'  {"vCPUs":>5} {"cycles":>6} {"echo->exit VMM":>15} {"echo->exit":>15} '
      f'{"KVM_RUN->PM exit":>17} {"KVM_RUN->write ret":>19}')
    for name, vcpus, ncycles, f in linux:
        if statistics.median(f['asleep']) > 1e6:
            continue
        cells = []
        for key in ('echo-to-exit-vmm-clock', 'echo-to-exit', 'run-to-pm-exit',
                    'run-to-write-return'):
            med, p90 = quantiles(f[key])
            cells.append(f'{med / 1000:6.1f} / {p90 / 1000:6.1f}')
        p(f'  {vcpus:5} {ncycles:6} {cells[0]:>15} {cells[1]:>15} {cells[2]:>17} {cells[3]:>19}')
    for name, vcpus, ncycles, f in linux:
        if statistics.median(f['asleep']) <= 1e6:
            continue
        asleep, cpu = sum(f['asleep']), sum(f['cpu-asleep'])
        p(f'  host CPU of the VMM process while the guest ({vcpus} vCPUs) slept '
          f'{asleep / 1e6:.1f} s: {cpu / 1000:.1f} ms, {cpu / asleep * 100:.3f} % of one core')
    p('')
    prof_rows = []
    for root, entries in profiles.items():
        _, suspends, root_med = entries[0]
        callees = entries[1:]
        # tracing a call costs about what the fastest callee takes
        floor = min(med for func, calls, med in callees if calls)
        p(f'Profile of {root}, {suspends} suspends (function graph; us, median per call)')
        p(f'  traced alone: {root_med:.1f} per call. Each callee was traced with it alone;')
        p(f'  "net" takes off the tracer\'s own cost, about the fastest callee ({floor:.1f})')
        p(f'  {"callee":36} {"calls":>6} {"median":>7} {"net":>6} {"net per suspend":>16}')
        rows_net = []
        for func, calls, med in callees:
            per_suspend = calls / suspends
            net = max(med - floor, 0.0)
            rows_net.append((net * per_suspend, func, calls, med, net))
            prof_rows.append((root, func, calls, med, net, net * per_suspend))
        for total, func, calls, med, net in sorted(rows_net, reverse=True):
            if calls:
                p(f'  {func:36} {calls:6} {med:7.1f} {net:6.1f} {total:16.1f}')
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
        f.write('root,function,calls,median_us,net_us,net_us_per_suspend\n')
        for r in prof_rows:
            f.write('%s,%s,%d,%.1f,%.1f,%.1f\n' % r)
    plot(args.out, fig, counts, linux)


def plot(out, fig, counts, linux):
    dat = os.path.join(out, 'scaling.dat')
    with open(dat, 'w') as f:
        f.write('# vcpus suspend exit-floor denied ecall-floor (median us)\n')
        for v in counts:
            d = fig.get(('full', 'denied', v), (0, float('nan')))[1]
            e = fig.get(('full', 'ecall-floor', v), (0, float('nan')))[1]
            f.write(f'{v} {fig[("full", "suspend", v)][1]} {fig[("full", "exit-floor", v)][1]} {d} {e}\n')
    ldat = os.path.join(out, 'linux.dat')
    with open(ldat, 'w') as f:
        f.write('# vcpus echo-to-exit run-to-pm-exit (median ms)\n')
        for name, vcpus, ncycles, fg in linux:
            if statistics.median(fg['asleep']) <= 1e6:
                f.write(f'{vcpus} {statistics.median(fg["echo-to-exit"]) / 1000} '
                        f'{statistics.median(fg["run-to-pm-exit"]) / 1000}\n')
    script = f'''
set terminal pngcairo size 1200,500 font ",10"
set output "{os.path.join(out, 'bench.png')}"
set multiplot layout 1,2
set title "SBI system suspend under KVM, full series (median)"
set logscale xy
set xlabel "vCPUs"
set ylabel "us (nested TCG)"
set key top left
set grid
plot "{dat}" using 1:2 with linespoints title "suspend round trip", \\
     "{dat}" using 1:3 with lines dashtype 2 title "exit floor", \\
     "{dat}" using 1:4 with linespoints title "denied call", \\
     "{dat}" using 1:5 with lines dashtype 2 title "in-kernel SBI call"
unset logscale
set logscale x 2
set title "Linux guest under tools/vmm (median)"
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
