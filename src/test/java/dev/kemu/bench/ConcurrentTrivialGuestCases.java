package dev.kemu.bench;

import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * {@link TrivialGuestCases} on the two threads of junit-platform.properties: each thread gets a
 * machine of its own, so the figure shows how far guest tests scale on a second core.
 */
@Execution(ExecutionMode.CONCURRENT)
public class ConcurrentTrivialGuestCases extends TrivialGuestCases {
}
