package io.github.sae4j.api.model;

/**
 * Reads (capture) or rewrites (splice) the residual stream at one hook point during a forward pass. Hooks run
 * on the forward's thread, in the order given, once per sequence and hook point.
 */
public interface ResidualHook {

    HookPoint point();

    void onResidual(ResidualSlice residual);
}
