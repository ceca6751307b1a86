"""torch.nn ports of transformers' CLIPTextModel and CLIPModel (4.46 modeling_clip.py, eager attention):
the one torch CLIP of the reference scripts (transformers is not installed here). With a seed they get
random weights and are exported by torch.onnx.export as optimum exports the real classes
(export_check.py); with load_weights they run a generated folder's weights (clip_reference.py,
demo_components.py, pipeline_reference.py).

Same module tree, parameter names and operations as transformers' code, so a trace records the graph
patterns a real export has: nn.Embedding lookups with the position_ids buffer sliced to the sequence
length, the causal mask built by torch.full + masked_fill (`_make_causal_mask`), the padding mask by
`_expand_mask`, bmm attention on [batch * heads, seq, head_dim] views, pooling at the EOS token
(argmax of the ids when `eos_token_id == 2`, the legacy configs; else the first id equal to it), and
CLIPModel's `_get_vector_norm` normalization. Weights follow CLIPPreTrainedModel._init_weights,
with LayerNorms perturbed so that their affine parameters are exercised.
"""
import torch
from torch import nn


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


ACTIVATIONS = {"quick_gelu": quick_gelu, "gelu": nn.functional.gelu}


def make_causal_mask(batch, length, dtype):
    """transformers' AttentionMaskConverter._make_causal_mask with no past: [batch, 1, length, length]."""
    mask = torch.full((length, length), torch.finfo(dtype).min)
    mask_cond = torch.arange(mask.size(-1))
    mask.masked_fill_(mask_cond < (mask_cond + 1).view(mask.size(-1), 1), 0)
    return mask.to(dtype)[None, None, :, :].expand(batch, 1, length, length)


def expand_mask(mask, dtype):
    """transformers' _prepare_4d_attention_mask (_expand_mask): [batch, seq] 1/0 → additive [batch, 1, seq, seq]."""
    batch, length = mask.size()
    expanded = mask[:, None, None, :].expand(batch, 1, length, length).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)


class CLIPAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_dim = config["hidden_size"]
        self.num_heads = config["num_attention_heads"]
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim**-0.5
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def _shape(self, tensor, seq_len, bsz):
        return tensor.view(bsz, seq_len, self.num_heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, hidden_states, attention_mask=None, causal_attention_mask=None):
        bsz, tgt_len, embed_dim = hidden_states.size()
        query_states = self.q_proj(hidden_states) * self.scale
        key_states = self._shape(self.k_proj(hidden_states), -1, bsz)
        value_states = self._shape(self.v_proj(hidden_states), -1, bsz)
        proj_shape = (bsz * self.num_heads, -1, self.head_dim)
        query_states = self._shape(query_states, tgt_len, bsz).view(*proj_shape)
        key_states = key_states.view(*proj_shape)
        value_states = value_states.view(*proj_shape)
        src_len = key_states.size(1)
        attn_weights = torch.bmm(query_states, key_states.transpose(1, 2))
        for mask in (causal_attention_mask, attention_mask):
            if mask is not None:
                attn_weights = attn_weights.view(bsz, self.num_heads, tgt_len, src_len) + mask
                attn_weights = attn_weights.view(bsz * self.num_heads, tgt_len, src_len)
        attn_weights = nn.functional.softmax(attn_weights, dim=-1)
        attn_output = torch.bmm(attn_weights, value_states)
        attn_output = attn_output.view(bsz, self.num_heads, tgt_len, self.head_dim).transpose(1, 2)
        return self.out_proj(attn_output.reshape(bsz, tgt_len, embed_dim))


class CLIPMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.activation_fn = ACTIVATIONS[config["hidden_act"]]
        self.fc1 = nn.Linear(config["hidden_size"], config["intermediate_size"])
        self.fc2 = nn.Linear(config["intermediate_size"], config["hidden_size"])

    def forward(self, hidden_states):
        return self.fc2(self.activation_fn(self.fc1(hidden_states)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self_attn = CLIPAttention(config)
        self.layer_norm1 = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])
        self.mlp = CLIPMLP(config)
        self.layer_norm2 = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])

    def forward(self, hidden_states, attention_mask, causal_attention_mask):
        residual = hidden_states
        hidden_states = self.self_attn(self.layer_norm1(hidden_states), attention_mask, causal_attention_mask)
        hidden_states = residual + hidden_states
        residual = hidden_states
        return residual + self.mlp(self.layer_norm2(hidden_states))


class CLIPEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(config) for _ in range(config["num_hidden_layers"])])

    def forward(self, hidden_states, attention_mask=None, causal_attention_mask=None):
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, causal_attention_mask)
        return hidden_states


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.token_embedding = nn.Embedding(config["vocab_size"], config["hidden_size"])
        self.position_embedding = nn.Embedding(config["max_position_embeddings"], config["hidden_size"])
        self.register_buffer("position_ids", torch.arange(config["max_position_embeddings"]).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        position_ids = self.position_ids[:, : input_ids.shape[-1]]
        return self.token_embedding(input_ids) + self.position_embedding(position_ids)


class CLIPTextTransformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = CLIPTextEmbeddings(config)
        self.encoder = CLIPEncoder(config)
        self.final_layer_norm = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])
        self.eos_token_id = config["eos_token_id"]

    def forward(self, input_ids, attention_mask=None):
        input_shape = input_ids.size()
        input_ids = input_ids.view(-1, input_shape[-1])
        hidden_states = self.embeddings(input_ids)
        causal_attention_mask = make_causal_mask(input_shape[0], input_shape[1], hidden_states.dtype)
        if attention_mask is not None:
            attention_mask = expand_mask(attention_mask, hidden_states.dtype)
        last_hidden_state = self.final_layer_norm(self.encoder(hidden_states, attention_mask, causal_attention_mask))
        rows = torch.arange(last_hidden_state.shape[0])
        ids = input_ids.to(dtype=torch.int)
        if self.eos_token_id == 2:
            pooled_output = last_hidden_state[rows, ids.argmax(dim=-1)]
        else:
            pooled_output = last_hidden_state[rows, (ids == self.eos_token_id).int().argmax(dim=-1)]
        return last_hidden_state, pooled_output


class CLIPVisionEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_dim = config["hidden_size"]
        self.class_embedding = nn.Parameter(torch.randn(self.embed_dim))
        self.patch_embedding = nn.Conv2d(config["num_channels"], self.embed_dim, kernel_size=config["patch_size"], stride=config["patch_size"], bias=False)
        num_positions = (config["image_size"] // config["patch_size"]) ** 2 + 1
        self.position_embedding = nn.Embedding(num_positions, self.embed_dim)
        self.register_buffer("position_ids", torch.arange(num_positions).expand((1, -1)), persistent=False)

    def forward(self, pixel_values):
        batch_size = pixel_values.shape[0]
        patch_embeds = self.patch_embedding(pixel_values.to(dtype=self.patch_embedding.weight.dtype))
        patch_embeds = patch_embeds.flatten(2).transpose(1, 2)
        class_embeds = self.class_embedding.expand(batch_size, 1, -1)
        embeddings = torch.cat([class_embeds, patch_embeds], dim=1)
        return embeddings + self.position_embedding(self.position_ids)


class CLIPVisionTransformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = CLIPVisionEmbeddings(config)
        self.pre_layrnorm = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])
        self.encoder = CLIPEncoder(config)
        self.post_layernorm = nn.LayerNorm(config["hidden_size"], eps=config["layer_norm_eps"])

    def forward(self, pixel_values):
        last_hidden_state = self.encoder(self.pre_layrnorm(self.embeddings(pixel_values)))
        return last_hidden_state, self.post_layernorm(last_hidden_state[:, 0, :])


def vector_norm(tensor):
    """transformers' _get_vector_norm (4.45+), which CLIPModel divides the embeddings by."""
    return torch.pow(torch.sum(torch.pow(tensor, 2), dim=-1, keepdim=True), 0.5)


class CLIPTextModel(nn.Module):
    """forward(input_ids, attention_mask) → (last_hidden_state, pooler_output). With a seed, random
    weights (init_clip_weights); without, load them with load_weights."""

    def __init__(self, config, seed=None):
        super().__init__()
        self.text_model = CLIPTextTransformer(config)
        if seed is not None:
            init_clip_weights(self, config, seed)

    def forward(self, input_ids, attention_mask=None):
        return self.text_model(input_ids, attention_mask)


class CLIPModel(nn.Module):
    """forward(input_ids, pixel_values, attention_mask) →
    (logits_per_image, logits_per_text, text_embeds, image_embeds), the outputs optimum keeps."""

    def __init__(self, config, seed=None):
        super().__init__()
        text_config, vision_config = config["text_config"], config["vision_config"]
        self.text_model = CLIPTextTransformer(text_config)
        self.vision_model = CLIPVisionTransformer(vision_config)
        self.visual_projection = nn.Linear(vision_config["hidden_size"], config["projection_dim"], bias=False)
        self.text_projection = nn.Linear(text_config["hidden_size"], config["projection_dim"], bias=False)
        self.logit_scale = nn.Parameter(torch.tensor(config["logit_scale_init_value"]))
        if seed is not None:
            init_clip_weights(self, text_config, seed)

    def forward(self, input_ids, pixel_values, attention_mask=None):
        image_embeds = self.visual_projection(self.vision_model(pixel_values)[1])
        text_embeds = self.text_projection(self.text_model(input_ids, attention_mask)[1])
        image_embeds = image_embeds / vector_norm(image_embeds)
        text_embeds = text_embeds / vector_norm(text_embeds)
        logits_per_text = torch.matmul(text_embeds, image_embeds.t()) * self.logit_scale.exp()
        return logits_per_text.t(), logits_per_text, text_embeds, image_embeds


def load_weights(model, tensors):
    """The model with its parameters set from `tensors` (name → tensor; a generated folder's ONNX
    initializers carry transformers' parameter names), every parameter required."""
    model.load_state_dict({name: tensors[name] for name in model.state_dict()}, strict=True)
    return model.eval()


def init_clip_weights(model, config, seed):
    """CLIPPreTrainedModel._init_weights (factor 1), from torch.manual_seed(seed); LayerNorms then get
    weight 1 + N(0, 0.1) and bias N(0, 0.1) instead of 1 and 0."""
    generator = torch.Generator().manual_seed(seed)
    normal = lambda tensor, std: tensor.copy_(torch.randn(tensor.shape, generator=generator) * std)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (CLIPTextEmbeddings, CLIPVisionEmbeddings)):
                normal(module.position_embedding.weight, 0.02)
                if isinstance(module, CLIPTextEmbeddings):
                    normal(module.token_embedding.weight, 0.02)
                else:
                    normal(module.class_embedding, module.embed_dim**-0.5)
                    normal(module.patch_embedding.weight, 0.02)
            elif isinstance(module, CLIPAttention):
                in_std = module.embed_dim**-0.5 * (2 * config["num_hidden_layers"]) ** -0.5
                for linear, std in ((module.q_proj, in_std), (module.k_proj, in_std), (module.v_proj, in_std), (module.out_proj, module.embed_dim**-0.5)):
                    normal(linear.weight, std)
                    linear.bias.zero_()
            elif isinstance(module, CLIPMLP):
                width = module.fc1.in_features
                normal(module.fc1.weight, (2 * width) ** -0.5)
                normal(module.fc2.weight, width**-0.5 * (2 * config["num_hidden_layers"]) ** -0.5)
                module.fc1.bias.zero_()
                module.fc2.bias.zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.copy_(1 + torch.randn(module.weight.shape, generator=generator) * 0.1)
                normal(module.bias, 0.1)
        if isinstance(model, CLIPModel):
            normal(model.visual_projection.weight, model.visual_projection.in_features**-0.5)
            normal(model.text_projection.weight, model.text_projection.in_features**-0.5)
    return model

