package dev.kemu.debug.svg;

import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;
import java.io.StringWriter;
import java.util.Locale;

/** The few SVG elements the memory picture needs, over the JDK's StAX writer (which escapes text and attributes). */
final class SvgWriter {
    private static final String NS = "http://www.w3.org/2000/svg";
    private final StringWriter out = new StringWriter();
    private final XMLStreamWriter xml;

    SvgWriter(int width, int height, String title) {
        try {
            xml = XMLOutputFactory.newFactory().createXMLStreamWriter(out);
            xml.writeStartDocument("UTF-8", "1.0");
            xml.writeCharacters("\n");
            xml.writeStartElement("svg");
            xml.writeDefaultNamespace(NS);
            xml.writeAttribute("width", Integer.toString(width));
            xml.writeAttribute("height", Integer.toString(height));
            xml.writeAttribute("viewBox", "0 0 " + width + " " + height);
            xml.writeAttribute("font-family", "monospace");
            xml.writeAttribute("font-size", "11");
            element("title", title);
        } catch (XMLStreamException e) {
            throw new IllegalStateException("cannot start the SVG document: " + e.getMessage(), e);
        }
    }

    /** A rectangle with an id (may be null), classes, fill and a {@code <title>} tooltip; extra attributes as name/value pairs. */
    void rect(String id, String classes, double x, double y, double width, double height, String fill, String tooltip,
              String... attributes) {
        run(() -> {
            xml.writeStartElement("rect");
            if (id != null) {
                xml.writeAttribute("id", id);
            }
            xml.writeAttribute("class", classes);
            xml.writeAttribute("x", number(x));
            xml.writeAttribute("y", number(y));
            xml.writeAttribute("width", number(width));
            xml.writeAttribute("height", number(height));
            xml.writeAttribute("fill", fill);
            for (int i = 0; i + 1 < attributes.length; i += 2) {
                xml.writeAttribute(attributes[i], attributes[i + 1]);
            }
            element("title", tooltip);
            xml.writeEndElement();
        });
    }

    void text(double x, double y, String text, String classes) {
        run(() -> {
            xml.writeStartElement("text");
            xml.writeAttribute("class", classes);
            xml.writeAttribute("x", number(x));
            xml.writeAttribute("y", number(y));
            xml.writeCharacters(text);
            xml.writeEndElement();
        });
    }

    /** Opens a group with an id and class; close it with {@link #end}. */
    void group(String id, String classes) {
        run(() -> {
            xml.writeStartElement("g");
            xml.writeAttribute("id", id);
            xml.writeAttribute("class", classes);
        });
    }

    void end() {
        run(xml::writeEndElement);
    }

    String finish() {
        run(() -> {
            xml.writeEndElement();
            xml.writeEndDocument();
            xml.close();
        });
        return out + "\n";
    }

    private void element(String name, String text) throws XMLStreamException {
        xml.writeStartElement(name);
        xml.writeCharacters(text);
        xml.writeEndElement();
    }

    private static String number(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.2f", value);
    }

    private interface XmlStep {
        void write() throws XMLStreamException;
    }

    private void run(XmlStep step) {
        try {
            step.write();
        } catch (XMLStreamException e) {
            throw new IllegalStateException("cannot write the SVG document: " + e.getMessage(), e);
        }
    }
}
