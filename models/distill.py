"""Knowledge distillation (Hinton, Vinyals & Dean 2015): a small *student* learns from
the softened outputs of a trained *teacher* as well as from the labels.

With student logits ``z``, teacher logits ``t``, temperature ``T`` and weight ``α``::

    p_T = softmax(t / T),  q_T = softmax(z / T)
    L = α · T² · KL(p_T ‖ q_T)  +  (1 − α) · CE(z, y)

(KL averaged over the batch: ``F.kl_div(log_softmax(z/T), p_T, reduction="batchmean")``).

Why T²: the gradient of the soft term with respect to a logit is

    ∂/∂z_i [KL(p_T ‖ q_T)] = (1/T) · (q_T,i − p_T,i)

and for large T, ``q_T,i − p_T,i ≈ (z_i − t_i)/(N·T)`` (expanding ``e^{x/T} ≈ 1 + x/T``
with logits of zero mean over N classes), so the soft gradient shrinks like ``1/T²``.
Multiplying by T² keeps its size comparable to the hard term's whatever T is, so α
means the same thing at every temperature (docs/distillation.md has the derivation).
"""
import minigrad.nn.functional as F

__all__ = ["distillation_loss"]


def distillation_loss(student_logits, teacher_logits, target, temperature=4.0, alpha=0.9):
    """``α·T²·KL(softmax(t/T) ‖ softmax(z/T)) + (1−α)·CE(z, y)``, a scalar; the teacher's
    logits are a constant (detached)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    soft_target = F.softmax(teacher_logits.detach() / temperature, dim=-1)
    soft = F.kl_div(F.log_softmax(student_logits / temperature, dim=-1), soft_target,
                    reduction="batchmean") * (temperature ** 2)
    if alpha == 1.0:
        return soft
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, target)
