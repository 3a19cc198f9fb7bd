"""Docmee (文多多 AiPPT) behind the relay: outlines, content, PPT records, async builds, .pptx files."""
