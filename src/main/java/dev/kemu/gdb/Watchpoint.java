package dev.kemu.gdb;

/** A data watchpoint on guest-virtual {@code [address, address + length)}: gdb's Z2 (write), Z3 (read), Z4 (access). */
record Watchpoint(Kind kind, long address, int length) {
    enum Kind {
        WRITE("watch"), READ("rwatch"), ACCESS("awatch");

        private final String stopReason;

        Kind(String stopReason) {
            this.stopReason = stopReason;
        }

        boolean matches(boolean write) {
            return this == ACCESS || (this == WRITE) == write;
        }

        /** The stop-reply key gdb expects, e.g. {@code watch}. */
        String stopReason() {
            return stopReason;
        }

        static Kind ofPacketType(int type) {
            return switch (type) {
                case 2 -> WRITE;
                case 3 -> READ;
                case 4 -> ACCESS;
                default -> throw new MalformedPacketException("watchpoint type " + type + ": must be 2, 3 or 4");
            };
        }
    }
}
