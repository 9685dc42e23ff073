// Enclosure: an open box with rounded corners, mounting holes in its floor, and its lid
// printed beside it (a plate with a lip that fits inside the walls).

/* [Box] */
// outside length
length = 100; // [20:0.1:1000]
// outside width
width = 60; // [20:0.1:1000]
// outside height, without the lid
height = 40; // [10:0.1:1000]
// wall and floor
wall_thickness = 2; // [0.8:0.1:10]
// outside corner radius
corner_radius = 3; // [1:0.1:3]

/* [Mounting holes] */
// mounting holes in the floor
hole_count = 4; // [0:1:8]
// mounting hole diameter
hole_diameter = 3.2; // [1.5:0.1:10]

/* [Hidden] */
$fn = 48;

// forge:parts box, lid
part = "all";  // what to draw: "all", or one of the parts named above

module rounded_rect(size, r) {
    offset(r = r) offset(delta = -r) square(size, center = true);
}

module box() {
    difference() {
        linear_extrude(height = height) rounded_rect([length, width], corner_radius);
        translate([0, 0, wall_thickness])
            linear_extrude(height = height)
                rounded_rect([length - 2 * wall_thickness, width - 2 * wall_thickness],
                             max(corner_radius - wall_thickness, 0.5));
        for (i = [0 : 1 : hole_count - 1])
            translate([hole_x(i), hole_y(i), -1]) cylinder(d = hole_diameter, h = wall_thickness + 2);
    }
}

// Floor holes on a ring just inside the walls: the corners first.
function hole_x(i) = (i % 2 == 0 ? -1 : 1) * (length / 2 - wall_thickness - hole_diameter * 1.5)
                     * (i < 4 ? 1 : 0.5);
function hole_y(i) = (floor(i / 2) % 2 == 0 ? -1 : 1) * (width / 2 - wall_thickness - hole_diameter * 1.5)
                     * (i < 4 ? 1 : 0.5);

module lid() {
    clearance = 0.3;
    linear_extrude(height = wall_thickness) rounded_rect([length, width], corner_radius);
    linear_extrude(height = wall_thickness * 2)
        difference() {
            rounded_rect([length - 2 * wall_thickness - 2 * clearance,
                          width - 2 * wall_thickness - 2 * clearance], 1);
            rounded_rect([length - 4 * wall_thickness - 2 * clearance,
                          width - 4 * wall_thickness - 2 * clearance], 1);
        }
}

if (part == "all" || part == "box") box();
if (part == "all" || part == "lid") translate([0, width + 10, 0]) lid();
