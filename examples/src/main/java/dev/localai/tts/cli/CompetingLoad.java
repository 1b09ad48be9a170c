package dev.localai.tts.cli;

/**
 * Another program's work beside a benchmark, as on a desktop where a browser or a game's launcher wakes now and then:
 * a thread that keeps one core busy for {@code busyMs} out of every {@code periodMs}, from {@link #start} until the
 * returned handle is closed. With as many compute threads as cores, each burst takes a core from one of them
 * (`tts bench t3 --competing-load 5/20`). Immutable: each {@link #start} runs a thread of its own.
 */
final class CompetingLoad {
    private final long busyNanos;
    private final long periodNanos;

    private CompetingLoad(double busyMs, double periodMs) {
        this.busyNanos = Math.round(busyMs * 1e6);
        this.periodNanos = Math.round(periodMs * 1e6);
    }

    /**
     * Parses {@code BUSY/PERIOD} in milliseconds ({@code 5/20}: 5 ms busy in every 20); null for null or blank (no
     * load). The busy part must be positive and shorter than the period, the period at most a second.
     */
    static CompetingLoad parse(String spec) {
        if (spec == null || spec.isBlank()) {
            return null;
        }
        String[] parts = spec.trim().split("/");
        double busy;
        double period;
        try {
            if (parts.length != 2) {
                throw new NumberFormatException();
            }
            busy = Double.parseDouble(parts[0].trim());
            period = Double.parseDouble(parts[1].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--competing-load takes BUSY/PERIOD in milliseconds, e.g. 5/20; got "
                    + spec);
        }
        if (!(busy > 0) || !(busy < period) || !(period <= 1000)) {
            throw new IllegalArgumentException("--competing-load: the busy milliseconds must be above 0 and below the "
                    + "period, the period at most 1000; got " + spec);
        }
        return new CompetingLoad(busy, period);
    }

    /** Starts a thread that makes the load (a daemon, named {@code competing-load}) until the handle is closed. */
    Running start() {
        return new Running(busyNanos, periodNanos);
    }

    /** A running load; closing it stops and joins its thread. */
    static final class Running implements AutoCloseable {
        private final Thread thread;
        private volatile boolean stop;
        /** Where the busy loop's result goes, so the loop is not optimised away. */
        private volatile long sink;

        private Running(long busy, long period) {
            thread = new Thread(() -> {
                long acc = 0;
                while (!stop) {
                    long start = System.nanoTime();
                    while (System.nanoTime() - start < busy) {
                        acc += start ^ acc;
                    }
                    sink = acc;
                    java.util.concurrent.locks.LockSupport.parkNanos(
                            Math.max(0, period - (System.nanoTime() - start)));
                }
            }, "competing-load");
            thread.setDaemon(true);
            thread.start();
        }

        @Override
        public void close() {
            stop = true;
            thread.interrupt();
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
