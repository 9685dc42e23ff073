// A simple labelled solid: the fallback when the request names no model type the
// template backend knows. A rounded block with its label raised on top.

/* [Block] */
// block length
length = 60; // [20:0.1:1000]
// block width
width = 40; // [10:0.1:1000]
// block height
height = 20; // [2:0.1:1000]

/* [Label] */
// the text on top (letters, digits and . , _ - only)
label = "PART"; // [20]

/* [Hidden] */
$fn = 48;

// forge:parts block, label
part = "all";  // what to draw: "all", or one of the parts named above

if (part == "all" || part == "block") linear_extrude(height = height)
    offset(r = 3) offset(delta = -3) square([length, width], center = true);
if (part == "all" || part == "label") translate([0, 0, height])
    linear_extrude(height = 1)
        resize([length * 0.8, 0], auto = [true, true])
            text(label, size = 10, halign = "center", valign = "center");
