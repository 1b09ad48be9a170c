package dev.localai.tts.core.checkpoint.pickle;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A minimal pickle virtual machine for the opcodes torch.save emits (protocols 2 to 5). Like torch.load's
 * {@code weights_only=True}, it only calls a fixed set of globals: tensor rebuilding, typed storages and OrderedDict.
 * Any other global makes the load fail. Tuples come back as unmodifiable lists, dicts as {@link LinkedHashMap}s,
 * integers as {@link Long} (or {@link BigInteger}), floats as {@link Double}.
 */
final class Unpickler {
    /** A reference to a module-level name, as pushed by GLOBAL / STACK_GLOBAL. */
    record Global(String module, String name) {
        String qualified() {
            return module + "." + name;
        }
    }

    /** A storage referenced through persistent_load. */
    record Storage(TorchDType dtype, ByteBuffer bytes) {}

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final ByteBuffer in;
    private final Function<List<Object>, Object> persistentLoad;
    private final ArrayList<Object> stack = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();

    Unpickler(byte[] data, Function<List<Object>, Object> persistentLoad) {
        this.in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        this.persistentLoad = persistentLoad;
    }

    Object load() {
        while (true) {
            if (!in.hasRemaining()) {
                throw new TorchPickleException("pickle ends without STOP");
            }
            int pos = in.position();
            int op = in.get() & 0xff;
            switch (op) {
                case 0x80 -> in.get(); // PROTO
                case 0x95 -> in.getLong(); // FRAME: framing is only a hint for buffered readers
                case '.' -> {
                    Object result = pop();
                    return result;
                }
                case '(' -> stack.add(MARK);
                case '}' -> stack.add(new LinkedHashMap<>());
                case ']' -> stack.add(new ArrayList<>());
                case ')' -> stack.add(List.of());
                case 'N' -> stack.add(null);
                case 0x88 -> stack.add(Boolean.TRUE);
                case 0x89 -> stack.add(Boolean.FALSE);
                case 'K' -> stack.add((long) (in.get() & 0xff));
                case 'M' -> stack.add((long) (in.getShort() & 0xffff));
                case 'J' -> stack.add((long) in.getInt());
                case 0x8a -> stack.add(readLong(in.get() & 0xff));
                case 0x8b -> stack.add(readLong(checkedLength(in.getInt())));
                case 'G' -> stack.add(ByteBuffer.wrap(bytes(8)).getDouble()); // big-endian
                case 'X' -> stack.add(utf8(checkedLength(in.getInt())));
                case 0x8c -> stack.add(utf8(in.get() & 0xff));
                case 0x8d -> stack.add(utf8(checkedLength(in.getLong())));
                case 'T' -> stack.add(latin1(checkedLength(in.getInt())));
                case 'U' -> stack.add(latin1(in.get() & 0xff));
                case 'B' -> stack.add(bytes(checkedLength(in.getInt())));
                case 'C' -> stack.add(bytes(in.get() & 0xff));
                case 0x8e -> stack.add(bytes(checkedLength(in.getLong())));
                case 'q' -> memo.put((long) (in.get() & 0xff), peek());
                case 'r' -> memo.put(in.getInt() & 0xffffffffL, peek());
                case 0x94 -> memo.put((long) memo.size(), peek());
                case 'h' -> stack.add(memoGet(in.get() & 0xff));
                case 'j' -> stack.add(memoGet(in.getInt() & 0xffffffffL));
                case 'c' -> stack.add(new Global(readLine(), readLine()));
                case 0x93 -> {
                    String name = (String) pop();
                    String module = (String) pop();
                    stack.add(new Global(module, name));
                }
                case 't' -> stack.add(Collections.unmodifiableList(popToMark()));
                case 0x85 -> stack.add(tuple(pop()));
                case 0x86 -> {
                    Object b = pop();
                    Object a = pop();
                    stack.add(tuple(a, b));
                }
                case 0x87 -> {
                    Object c = pop();
                    Object b = pop();
                    Object a = pop();
                    stack.add(tuple(a, b, c));
                }
                case 'l' -> stack.add(new ArrayList<>(popToMark()));
                case 'd' -> {
                    List<Object> items = popToMark();
                    Map<Object, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        m.put(items.get(i), items.get(i + 1));
                    }
                    stack.add(m);
                }
                case 'Q' -> {
                    Object pid = pop();
                    if (!(pid instanceof List<?> l)) {
                        throw new TorchPickleException("persistent id is not a tuple: " + pid);
                    }
                    @SuppressWarnings("unchecked")
                    List<Object> t = (List<Object>) l;
                    stack.add(persistentLoad.apply(t));
                }
                case 'R' -> {
                    Object args = pop();
                    Object fn = pop();
                    stack.add(call(fn, (List<?>) args));
                }
                case 0x81 -> { // NEWOBJ cls.__new__(cls, *args)
                    Object args = pop();
                    Object cls = pop();
                    stack.add(call(cls, (List<?>) args));
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    asMap(peek()).put(k, v);
                }
                case 'u' -> {
                    List<Object> items = popToMark();
                    Map<Object, Object> m = asMap(peek());
                    for (int i = 0; i + 1 < items.size(); i += 2) {
                        m.put(items.get(i), items.get(i + 1));
                    }
                }
                case 'a' -> {
                    Object v = pop();
                    asList(peek()).add(v);
                }
                case 'e' -> {
                    List<Object> items = popToMark();
                    asList(peek()).addAll(items);
                }
                case 'b' -> {
                    Object state = pop();
                    Object target = peek();
                    if (target instanceof Map<?, ?> && state instanceof Map<?, ?> sm) {
                        asMap(target).putAll(sm);
                    } else if (!(target instanceof StoredTensor) || state != null) {
                        throw new TorchPickleException("BUILD of " + describe(target) + " is not supported");
                    }
                }
                case '0' -> pop();
                case '1' -> popToMark();
                case '2' -> stack.add(peek());
                default -> throw new TorchPickleException(String.format(
                        "unsupported pickle opcode 0x%02x ('%c') at byte %d", op, (char) op, pos));
            }
        }
    }

    private static List<Object> tuple(Object... items) {
        return Collections.unmodifiableList(Arrays.asList(items));
    }

    private Object call(Object fn, List<?> args) {
        if (!(fn instanceof Global g)) {
            throw new TorchPickleException("cannot call " + describe(fn));
        }
        switch (g.qualified()) {
            case "collections.OrderedDict" -> {
                if (!args.isEmpty()) {
                    throw new TorchPickleException("OrderedDict with arguments is not supported");
                }
                return new LinkedHashMap<>();
            }
            case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor" -> {
                if (args.size() < 4 || !(args.get(0) instanceof Storage s)) {
                    throw new TorchPickleException("malformed " + g.qualified() + " call: " + args);
                }
                long offset = (Long) args.get(1);
                long[] size = longs(args.get(2));
                long[] stride = longs(args.get(3));
                return new StoredTensor(s.dtype(), size, stride, offset, s.bytes());
            }
            case "torch._utils._rebuild_parameter" -> {
                return args.get(0);
            }
            default -> throw new TorchPickleException("refusing to call global " + g.qualified()
                    + " (only tensors, storages, dicts, lists, tuples and scalars are loaded)");
        }
    }

    private static long[] longs(Object o) {
        List<?> l = (List<?>) o;
        long[] r = new long[l.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = (Long) l.get(i);
        }
        return r;
    }

    private static String describe(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName() + " " + o;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> asMap(Object o) {
        if (o instanceof Map<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw new TorchPickleException("SETITEM(S) on " + describe(o));
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object o) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw new TorchPickleException("APPEND(S) on " + describe(o));
    }

    private Object memoGet(long key) {
        if (!memo.containsKey(key)) {
            throw new TorchPickleException("pickle memo has no entry " + key);
        }
        return memo.get(key);
    }

    private Object pop() {
        if (stack.isEmpty()) {
            throw new TorchPickleException("pickle stack underflow");
        }
        Object o = stack.remove(stack.size() - 1);
        if (o == MARK) {
            throw new TorchPickleException("unexpected MARK on the pickle stack");
        }
        return o;
    }

    private Object peek() {
        if (stack.isEmpty()) {
            throw new TorchPickleException("pickle stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popToMark() {
        int i = stack.size() - 1;
        while (i >= 0 && stack.get(i) != MARK) {
            i--;
        }
        if (i < 0) {
            throw new TorchPickleException("pickle MARK not found");
        }
        List<Object> items = new ArrayList<>(stack.subList(i + 1, stack.size()));
        stack.subList(i, stack.size()).clear();
        return items;
    }

    private int checkedLength(long n) {
        if (n < 0 || n > in.remaining()) {
            throw new TorchPickleException("pickle length " + n + " runs past the end of data");
        }
        return (int) n;
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[checkedLength(n)];
        in.get(b);
        return b;
    }

    private String utf8(int n) {
        return new String(bytes(n), StandardCharsets.UTF_8);
    }

    private String latin1(int n) {
        return new String(bytes(n), StandardCharsets.ISO_8859_1);
    }

    private Object readLong(int n) {
        byte[] le = bytes(n);
        if (n == 0) {
            return 0L;
        }
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        BigInteger v = new BigInteger(be);
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private String readLine() {
        int start = in.position();
        int end = start;
        while (end < in.limit() && in.get(end) != '\n') {
            end++;
        }
        if (end >= in.limit()) {
            throw new TorchPickleException("unterminated GLOBAL name");
        }
        String s = new String(in.array(), start, end - start, StandardCharsets.UTF_8);
        in.position(end + 1);
        return s;
    }
}
