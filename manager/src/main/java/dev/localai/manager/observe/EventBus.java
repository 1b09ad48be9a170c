package dev.localai.manager.observe;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/** Fan-out of events to subscribers (bounded queues: a slow subscriber loses its oldest events, never blocks). */
public final class EventBus {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager.events");
    private final List<BlockingQueue<Event>> subscribers = new CopyOnWriteArrayList<>();
    private final AtomicLong seq = new AtomicLong();

    public void publish(String type, String model, Object... kv) {
        Map<String, Object> data = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (kv[i + 1] != null) data.put((String) kv[i], kv[i + 1]);
        }
        Event e = new Event(seq.incrementAndGet(), System.currentTimeMillis(), type, model, data);
        LOG.fine(() -> type + " " + (model == null ? "" : model) + " " + data);
        for (BlockingQueue<Event> q : subscribers) {
            while (!q.offer(e)) q.poll();
        }
    }

    public BlockingQueue<Event> subscribe() {
        BlockingQueue<Event> q = new ArrayBlockingQueue<>(1024);
        subscribers.add(q);
        return q;
    }

    public void unsubscribe(BlockingQueue<Event> q) {
        subscribers.remove(q);
    }

    public int subscriberCount() {
        return subscribers.size();
    }
}
