"""Every report as a PDF (WeasyPrint): one print layout (`templates/reporting/pdf/base.html`), the
agency's logo and colour, page numbers and the report's date range in every page's footer,
charts drawn here as inline SVG. `render.pdf_render` turns a template into PDF bytes;
`documents` builds what each kind of report shows; the views only check access and answer."""
