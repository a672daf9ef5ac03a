package dev.kemu.cli;

import picocli.CommandLine;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code --timeout} values: a whole number with a unit ({@code 500ms}, {@code 60s}, {@code 2m}), or 0 for no limit. */
final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    static final Duration MAX = Duration.ofHours(24);
    private static final Pattern FORMAT = Pattern.compile("(\\d{1,9})(ms|s|m)");

    @Override
    public Duration convert(String value) {
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    static Duration parse(String text) {
        String t = text.trim();
        if (t.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = FORMAT.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a duration; write a whole number and a unit, "
                    + "like 60s, 500ms or 2m (0 means no limit)");
        }
        long amount = Long.parseLong(m.group(1));
        Duration duration = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            default -> Duration.ofMinutes(amount);
        };
        // The run loop works in nanoseconds and microseconds; a day keeps far from their overflow.
        if (duration.compareTo(MAX) > 0) {
            throw new IllegalArgumentException("'" + text + "' is longer than the largest limit, 24 h (1440m); "
                    + "use 0 for no limit");
        }
        return duration;
    }
}
