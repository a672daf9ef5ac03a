package dev.kemu.machine;

/**
 * One memory access as the MMU sees it: what it does (read, write, instruction fetch) and
 * from which privilege (CPL 3 is {@link Mode#USER}, CPL 0..2 {@link Mode#SUPERVISOR}).
 */
public record Access(Kind kind, Mode mode) {
    public enum Kind { READ, WRITE, FETCH }

    public enum Mode { SUPERVISOR, USER }

    public static final Access SUPERVISOR_READ = new Access(Kind.READ, Mode.SUPERVISOR);

    public Access {
        if (kind == null || mode == null) {
            throw new IllegalArgumentException("an access needs a kind and a mode, got " + kind + " / " + mode);
        }
    }

    public static Access of(Kind kind, Mode mode) {
        return new Access(kind, mode);
    }

    public boolean user() {
        return mode == Mode.USER;
    }

    /** The access packed for {@link PageWalker}'s allocation-free core: bits 1..0 the kind, bit 2 user. */
    int bits() {
        return kind.ordinal() | (user() ? PageWalker.USER_ACCESS : 0);
    }

    @Override
    public String toString() {
        return mode.name().toLowerCase() + " " + switch (kind) {
            case READ -> "read";
            case WRITE -> "write";
            case FETCH -> "instruction fetch";
        };
    }
}
