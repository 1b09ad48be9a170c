package dev.localai.tts.cli;

/**
 * Another program's work beside a benchmark, as on a desktop where a browser or a game's launcher wakes now and then:
 * a thread that keeps one core busy for {@code busyMs} out of every {@code periodMs}, until closed. With as many
 * compute threads as cores, each burst takes a core from one of them (`tts bench t3 --competing-load 5/20`).
 */
final class CompetingLoad implements AutoCloseable {
    private final Thread thread;
    private volatile boolean stop;

    private CompetingLoad(double busyMs, double periodMs) {
        long busy = Math.round(busyMs * 1e6);
        long period = Math.round(periodMs * 1e6);
        thread = new Thread(() -> {
            long sink = 0;
            while (!stop) {
                long start = System.nanoTime();
                while (System.nanoTime() - start < busy) {
                    sink += start ^ sink; // keeps the core busy
                }
                java.util.concurrent.locks.LockSupport.parkNanos(Math.max(0, period - (System.nanoTime() - start)));
            }
            if (sink == 42) {
                System.out.print(""); // the loop's result is used, so it is not optimised away
            }
        }, "competing-load");
        thread.setDaemon(true);
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

    /** Starts the load; returns this. */
    CompetingLoad start() {
        thread.start();
        return this;
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
