"""minigrad.autograd: the Function base class, the backward engine's public face
(``grad``), grad-mode switches and numerical gradient checks."""
from .function import Function
from .grad_mode import no_grad, enable_grad, set_grad_enabled, is_grad_enabled
from .functional import backward, grad
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
