package dev.kemu.fuzz;

import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;

/**
 * Tries and seed of every jqwik property from {@code -Dkemu.fuzz.tries} and {@code -Dkemu.fuzz.seed},
 * for campaigns longer than {@code make test}'s ({@code make fuzz}, {@code scripts/fuzz.sh}); exhaustive
 * properties (the corpus replays) keep their own.
 */
public final class CampaignSettings implements AroundPropertyHook {
    // Registered for every property through META-INF/services, so that make fuzz can raise the tries of the
    // model-based tests without an annotation on each; without the properties set it changes nothing.
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
        Integer tries = Integer.getInteger("kemu.fuzz.tries");
        if (tries != null && !context.attributes().generation().equals(java.util.Optional.of(net.jqwik.api.GenerationMode.EXHAUSTIVE))) {
            context.attributes().setTries(tries);
        }
        String seed = System.getProperty("kemu.fuzz.seed");
        if (seed != null) {
            context.attributes().setSeed(seed);
        }
        return property.execute();
    }
}
